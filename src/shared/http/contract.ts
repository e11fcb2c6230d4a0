import { z } from 'zod/v4';

/**
 * The shapes both APIs speak, defined once: the write API and the read API answer with the
 * same problem details and take the same path parameters, so a client learns them once.
 */

/** Problem answers in OpenAPI (RFC 9457): the same shape for every 4xx, as problem.ts writes them. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  })
  .loose();

export const idParam = z.object({ id: z.uuid() });
export const storeParam = z.object({ storeId: z.uuid() });
export const itemParams = z.object({ storeId: z.uuid(), skuId: z.uuid() });
