import { z } from 'zod/v4';
import type { EventMetadata, RecordedEvent } from '../port.js';

/** Metadata as stored; parsed on the way out like everything else that comes in. */
export const eventMetadataSchema = z.object({
  actor: z.string().nullable(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  at: z.string(),
  schemaVersion: z.number().int().positive(),
  idempotencyKey: z.string().optional(),
  hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
}) satisfies z.ZodType<EventMetadata>;

export const eventRowSchema = z.object({
  position: z.bigint(),
  stream_id: z.string(),
  revision: z.bigint(),
  event_id: z.string(),
  type: z.string(),
  data: z.unknown(),
  metadata: eventMetadataSchema,
  recorded_at: z.number(),
});

export const toRecordedEvent = (row: z.infer<typeof eventRowSchema>): RecordedEvent => ({
  id: row.event_id,
  streamId: row.stream_id,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  revision: Number(row.revision),
  position: row.position,
  recordedAt: new Date(row.recorded_at),
});

/** Through slonik int8 arrives as bigint; through plain pg as text: both parse to bigint. */
const int8 = z.union([z.bigint(), z.string().regex(/^-?\d+$/).transform((text) => BigInt(text))]);

export const appendOutcomeSchema = z.object({
  outcome: z.enum(['written', 'duplicate', 'conflict']),
  revision: int8,
  last_position: int8.nullable(),
});
