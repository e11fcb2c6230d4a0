import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';
import { AppError, ValidationFailed } from '../shared/errors.js';
import { eventLogOf } from '../shared/event-store/log-queries.js';
import { positionAt } from '../shared/event-store/postgres/position-at.js';

/** `asOf`: a global position, or an ISO 8601 time with its offset. */
export const asOfParam = z
  .string()
  .max(64)
  .refine((text) => /^\d{1,19}$/.test(text) || z.iso.datetime({ offset: true }).safeParse(text).success, 'must be an ISO 8601 time (such as 2026-03-01T12:00:00Z) or a global position')
  .describe('The stock as it stood then: an ISO 8601 time or a global position');

const field = 'query.asOf';

/**
 * The position an asOf stands for. A time is the last event the store recorded at or before
 * it (the event store's clock: `recorded_at`, indexed by migration 007); before the first
 * event that is 0, which answers an empty store. A future time or a position beyond the head
 * cannot be answered truthfully yet, so they are refused, naming asOf.
 */
export async function positionOf(pool: DatabasePool, asOf: string, now = new Date()): Promise<bigint> {
  // Another event store than PostgreSQL's (KurrentDB) answers through its reads.
  const log = eventLogOf(pool);
  const head = log ? await log.head() : z.bigint().parse(await pool.oneFirst(sql.unsafe`select coalesce(max(position), 0)::bigint from es_events`));
  if (/^\d+$/.test(asOf)) {
    const position = BigInt(asOf);
    if (position > head) throw new ValidationFailed([{ field, reason: `position ${position} is beyond the head of the event store (${head})` }]);
    return position;
  }
  const at = new Date(asOf);
  if (at.getTime() > now.getTime()) throw new ValidationFailed([{ field, reason: 'is in the future' }]);
  return log ? log.positionAt(at) : positionAt(pool, at);
}

/**
 * The ledger is a read model: wait (bounded) until the projector has applied `position`,
 * as X-Min-Position does, rather than answer a past it has not written yet.
 */
export async function awaitLedger(pool: DatabasePool, progress: FragmentSqlToken, position: bigint, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reached = z.bigint().parse(await pool.oneFirst(sql.unsafe`select coalesce(min(through), 0)::bigint from ${progress}`));
    if (reached >= position) return;
    if (Date.now() >= deadline) {
      throw new AppError(503, 'read-model-behind', `The read model has applied the events through position ${reached}, not yet ${position}; retry shortly.`, {
        position: position.toString(),
        readPosition: reached.toString(),
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const levelRow = z.object({
  sku_id: z.string(),
  quantity: z.bigint().transform(Number),
  low_stock_threshold: z.number().int(),
  revision: z.bigint().transform(Number),
  position: z.bigint(),
});
export type LevelAsOf = z.infer<typeof levelRow>;

/**
 * The level of each item of a store as of `position`: for each SKU the store has ever
 * held, the last ledger row at or before it (one index probe each, however long the
 * history), leaving out items not yet added or already removed then.
 */
export async function storeLevelsAsOf(pool: DatabasePool, table: (name: string) => FragmentSqlToken, storeId: string, position: bigint): Promise<LevelAsOf[]> {
  const rows = await pool.any(sql.unsafe`
    select s.sku_id, l.quantity, l.low_stock_threshold, l.revision, l.position
      from ${table('stock')} s
      cross join lateral (
        select quantity, low_stock_threshold, removed, revision, position from ${table('stock_ledger')} l
         where l.store_id = s.store_id and l.sku_id = s.sku_id and l.position <= ${position.toString()}::bigint
         order by l.position desc limit 1) l
     where s.store_id = ${storeId} and not l.removed`);
  return rows.map((row) => levelRow.parse(row));
}

export async function itemLevelAsOf(
  pool: DatabasePool,
  table: (name: string) => FragmentSqlToken,
  storeId: string,
  skuId: string,
  position: bigint,
): Promise<LevelAsOf | null> {
  const row = await pool.maybeOne(sql.unsafe`
    select sku_id, quantity, low_stock_threshold, revision, position, removed from ${table('stock_ledger')}
     where store_id = ${storeId} and sku_id = ${skuId} and position <= ${position.toString()}::bigint
     order by position desc limit 1`);
  if (!row || row.removed === true) return null;
  return levelRow.parse(row);
}
