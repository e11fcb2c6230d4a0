import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';
import { AppError, ValidationFailed } from '../shared/errors.js';
import { newId } from '../shared/ids.js';

/**
 * Idempotency-Key on every command: a repeat with the same key answers the first result;
 * the same key with a different request is 422.
 *
 * Two layers, so that no crash can make a key apply twice:
 *  - the key's row keeps the first answer, which a repeat gets back as it was;
 *  - the events written under a key get ids derived from it (CommandContext.idempotency),
 *    so a repeat that runs again (its first run died before its answer was kept, or two
 *    copies raced) is recognized by the event store and writes nothing.
 */
export interface Idempotency {
  scope: string;
  key: string;
  /** Drawn once per key, so that a repeated creation names the same resource. */
  resourceId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: Idempotency | null;
  }
}

const keyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const recordSchema = z.object({
  request_hash: z.string(),
  resource_id: z.string(),
  released: z.boolean(),
  status_code: z.number().nullable(),
  response: z.object({ body: z.string(), headers: z.record(z.string(), z.string()) }).nullable(),
});

class KeyReused extends AppError {
  constructor() {
    super(422, 'idempotency-key-reused', 'This Idempotency-Key was used with a different request.', {
      errors: [{ field: 'headers.idempotency-key', reason: 'was already used with a different request' }],
    });
  }
}

const replayedHeaders = ['etag', 'location', 'content-type'];

/** How long a repeat waits for a copy of itself still in flight before running again. */
const WAIT_FOR_FIRST_MS = 5_000;

type KeyRecord = z.infer<typeof recordSchema>;

/**
 * Claims the key, or finds who has. A copy still in flight is waited for, so that both
 * answer alike; past the wait (its process may have died) the command runs again, which
 * is safe because its events' ids are derived from the key.
 */
async function claimOrWait(pool: DatabasePool, scope: string, key: string, hash: string): Promise<KeyRecord> {
  const claimed = await pool.maybeOne(sql.unsafe`
    insert into idempotency_keys (scope, key, request_hash, resource_id)
    values (${scope}, ${key}, ${hash}, ${newId()})
    on conflict (scope, key) do nothing
    returning request_hash, resource_id::text, released, status_code, response`);
  if (claimed) return recordSchema.parse(claimed);
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    // A statement of its own: its snapshot sees the row the conflicting insert committed.
    const row = recordSchema.parse(
      await pool.one(sql.unsafe`
        select request_hash, resource_id::text, released, status_code, response from idempotency_keys
         where scope = ${scope} and key = ${key}`),
    );
    if (row.request_hash !== hash || row.status_code !== null || Date.now() > deadline) return row;
    if (row.released) {
      // Its first attempt failed (5xx): claim it again at once; of two repeats, one does.
      const reclaimed = await pool.maybeOne(sql.unsafe`
        update idempotency_keys set released = false
         where scope = ${scope} and key = ${key} and released and status_code is null
        returning request_hash, resource_id::text, released, status_code, response`);
      if (reclaimed) return recordSchema.parse(reclaimed);
      continue;
    }
    await sleep(25);
  }
}
const commandMethods = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export const idempotencyPlugin = fp<{ pool: DatabasePool }>(
  async (app: FastifyInstance, { pool }) => {
    app.decorateRequest('idempotency', null);

    /**
     * preHandler: after authentication and validation, before the command runs. Named, so
     * that the OpenAPI document lists Idempotency-Key on the routes that run it.
     */
    app.decorate('idempotent', async function idempotent(request: FastifyRequest, reply: FastifyReply) {
      const header = request.headers['idempotency-key'];
      if (header === undefined || !commandMethods.has(request.method)) return;
      const parsed = keyHeader.safeParse(header);
      if (!parsed.success) {
        throw new ValidationFailed([{ field: 'headers.idempotency-key', reason: parsed.error.issues[0]?.message ?? 'is invalid' }]);
      }
      const scope = request.principal?.userId ?? 'anonymous';
      const hash = createHash('sha256')
        .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
        .digest('hex');
      const row = await claimOrWait(pool, scope, parsed.data, hash);
      if (row.request_hash !== hash) throw new KeyReused();
      if (row.status_code !== null && row.response) {
        await reply.code(row.status_code).headers(row.response.headers).header('idempotent-replayed', 'true').send(row.response.body);
        return reply;
      }
      request.idempotency = { scope, key: parsed.data, resourceId: row.resource_id };
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const idempotency = request.idempotency;
      if (!idempotency || reply.getHeader('idempotent-replayed')) return payload;
      if (reply.statusCode >= 500) {
        // A 5xx is not an answer: the next repeat runs the command again (safely, see
        // above), and at once. If the database is what failed this may fail too; the
        // repeat then waits out WAIT_FOR_FIRST_MS as for a process that died.
        await pool
          .query(sql.unsafe`
            update idempotency_keys set released = true
             where scope = ${idempotency.scope} and key = ${idempotency.key} and status_code is null`)
          .catch((error: unknown) => request.log.warn({ err: error }, 'idempotency: could not release the key after a 5xx'));
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of replayedHeaders) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      const body = typeof payload === 'string' ? payload : payload === null || payload === undefined ? '' : String(payload);
      await pool.query(sql.unsafe`
        update idempotency_keys set status_code = ${reply.statusCode}, response = ${JSON.stringify({ body, headers })}::jsonb
         where scope = ${idempotency.scope} and key = ${idempotency.key} and status_code is null`);
      return payload;
    });
  },
  { name: 'stockroom-idempotency' },
);

declare module 'fastify' {
  interface FastifyInstance {
    idempotent(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  }
}
