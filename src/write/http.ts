import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod/v4';
import { ValidationFailed } from '../shared/errors.js';
import { problemSchema } from '../shared/http/contract.js';
import { newId } from '../shared/ids.js';
import type { CommandContext } from './command-handler.js';

/** `If-Match: "3"` (or W/"3"): the revision the client saw. */
const ifMatchPattern = /^(?:W\/)?"?(\d{1,15})"?$/;

export function commandContext(request: FastifyRequest): CommandContext {
  const header = request.headers['if-match'];
  let ifMatch: number | undefined;
  if (typeof header === 'string' && header.trim() !== '*') {
    const match = ifMatchPattern.exec(header.trim());
    if (!match) throw new ValidationFailed([{ field: 'headers.if-match', reason: 'must be a version in quotes, such as "3"' }]);
    ifMatch = Number(match[1]);
  }
  return {
    actor: request.principal?.userId ?? null,
    correlationId: String(request.id),
    now: new Date(),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(request.idempotency ? { idempotency: { scope: request.idempotency.scope, key: request.idempotency.key } } : {}),
  };
}

/** The id of a resource a POST creates: stable under an Idempotency-Key. */
export const idForNew = (request: FastifyRequest): string => request.idempotency?.resourceId ?? newId();

/** Every command answers with the revision it left and the global position it wrote. */
export const written = { revision: z.int().min(-1), position: z.string().regex(/^\d+$/) };

export function answer<T extends { revision: number }>(reply: FastifyReply, status: number, body: T, location?: string): T {
  void reply.code(status).header('etag', `"${body.revision}"`);
  if (location) void reply.header('location', location);
  return body;
}

/** The problems a command (or the write API's fresh read) may answer with. */
export const commandErrors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema };
