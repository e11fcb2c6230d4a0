import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { READ_MODEL } from './schema-name.js';

export const stuckStreamView = z.object({
  streamId: z.string(),
  eventId: z.string().describe('The event the projector cannot read'),
  position: z.string().describe('Its global position'),
  type: z.string(),
  reason: z.string(),
  since: z.string().describe('When the stream was first marked stuck'),
  attempts: z.int().describe('How many times it failed, retries included'),
});
export type StuckStream = z.infer<typeof stuckStreamView>;

const stuckRow = z.object({
  stream_id: z.string(),
  event_id: z.string(),
  position: z.bigint(),
  type: z.string(),
  reason: z.string(),
  stuck_at: z.number(),
  attempts: z.number().int(),
});

const toView = (row: z.infer<typeof stuckRow>): StuckStream => ({
  streamId: row.stream_id,
  eventId: row.event_id,
  position: row.position.toString(),
  type: row.type,
  reason: row.reason,
  since: new Date(row.stuck_at).toISOString(),
  attempts: row.attempts,
});

/**
 * The read model's record of streams the projector stopped on (a poison event): written by
 * the projector, read by queries, readiness and the cluster report, so it sits between them.
 * The mailer keeps one of the same shape in its own schema (MAILER_STUCK).
 */

/** The schema of the mailer's stuck streams (migration 016). */
export const MAILER_STUCK = 'mailer';

/** Streams the PostgreSQL projector stopped on, oldest first (at most `limit`). */
export async function listStuckStreams(pool: DatabasePool, { schema = READ_MODEL, limit = 100 } = {}): Promise<StuckStream[]> {
  const rows = await pool.any(sql.unsafe`
    select stream_id, event_id::text, position, type, reason, stuck_at, attempts
      from ${sql.identifier([schema, 'stuck_streams'])} order by position limit ${limit}`);
  return rows.map((row) => toView(stuckRow.parse(row)));
}

/** The stream's stuck record, or null. */
export async function stuckStream(pool: DatabasePool, streamId: string, schema = READ_MODEL): Promise<StuckStream | null> {
  const row = await pool.maybeOne(sql.unsafe`
    select stream_id, event_id::text, position, type, reason, stuck_at, attempts
      from ${sql.identifier([schema, 'stuck_streams'])} where stream_id = ${streamId}`);
  return row ? toView(stuckRow.parse(row)) : null;
}

export async function countStuckStreams(pool: DatabasePool, schema = READ_MODEL): Promise<number> {
  return Number(z.bigint().parse(await pool.oneFirst(sql.unsafe`select count(*) from ${sql.identifier([schema, 'stuck_streams'])}`)));
}
