import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../shared/db/pool.js';
import { itemHash, itemOfStream, keys, lowestProgress, progressHash } from '../../shared/hot-model/keys.js';
import type { Redis } from '../../shared/redis.js';
import type { StreamFold } from './chain-pass.js';
import type { Difference } from './difference.js';

/**
 * A read model may be behind the events (the projector lags) or ahead of the head verify
 * read (events written since it started): neither is a difference. A row is wrong when it
 * claims the revision the events reached and says something else, or when the model says it
 * applied the stream's last event (its watermark is past it) and still shows an older one.
 */
function judge(
  expected: { revision: number; position: bigint },
  found: { revision: number } | null,
  watermark: bigint,
): 'compare' | 'behind' | 'ahead' | 'missing' | 'stale' {
  if (found === null) return watermark >= expected.position ? 'missing' : 'behind';
  if (found.revision > expected.revision) return 'ahead';
  if (found.revision < expected.revision) return watermark >= expected.position ? 'stale' : 'behind';
  return 'compare';
}

const stockRow = z.object({
  store_id: z.string(),
  sku_id: z.string(),
  quantity: z.bigint().transform(Number),
  low_stock_threshold: z.number().int(),
  removed: z.boolean(),
  revision: z.bigint().transform(Number),
  position: z.bigint(),
});
const revisionRow = z.object({ id: z.string(), revision: z.bigint().transform(Number), position: z.bigint() });

const PAGE = 5000;

/** The PostgreSQL read model: every stock row's level, and every row's revision in the tables kept one row per stream. */
export async function comparePostgres(pool: DatabasePool, schema: string, streams: ReadonlyMap<string, StreamFold>, head: bigint, differences: Difference[]): Promise<void> {
  const table = (name: string) => sql.identifier([schema, name]);
  const watermark = z.bigint().parse(await pool.oneFirst(sql.unsafe`select coalesce(min(through), 0)::bigint from ${table('progress')}`));
  const seen = new Set<string>();
  let after: [string, string] = ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'];
  for (;;) {
    const rows = (await pool.any(sql.unsafe`
      select store_id, sku_id, quantity, low_stock_threshold, removed, revision, position from ${table('stock')}
       where (store_id, sku_id) > (${after[0]}::uuid, ${after[1]}::uuid) order by store_id, sku_id limit ${PAGE}`)).map((row) => stockRow.parse(row));
    for (const row of rows) {
      const stream = `stockitem-${row.store_id}_${row.sku_id}`;
      seen.add(stream);
      const fold = streams.get(stream);
      const model = 'postgres:stock';
      if (!fold?.level) {
        if (row.position <= head) differences.push({ stream, model, field: 'row', expected: null, found: `revision ${row.revision}`, detail: 'a row without events' });
        continue;
      }
      const level = fold.level;
      const verdict = judge(level, row, watermark);
      if (verdict === 'stale') differences.push({ stream, model, field: 'revision', expected: level.revision, found: row.revision });
      if (verdict !== 'compare') continue;
      if (row.quantity !== level.quantity) differences.push({ stream, model, field: 'quantity', expected: level.quantity, found: row.quantity, revision: level.revision });
      if (row.low_stock_threshold !== level.lowStockThreshold) differences.push({ stream, model, field: 'lowStockThreshold', expected: level.lowStockThreshold, found: row.low_stock_threshold, revision: level.revision });
      if (row.removed !== level.removed) differences.push({ stream, model, field: 'removed', expected: level.removed, found: row.removed, revision: level.revision });
    }
    if (rows.length < PAGE) break;
    after = [rows.at(-1)!.store_id, rows.at(-1)!.sku_id];
  }
  for (const [stream, fold] of streams) {
    if (fold.level && !seen.has(stream) && judge(fold.level, null, watermark) === 'missing') {
      differences.push({ stream, model: 'postgres:stock', field: 'row', expected: `revision ${fold.level.revision}`, found: null });
    }
  }
  await compareLedger(pool, table('stock_ledger'), streams, watermark, differences);
  for (const [category, name] of [['store', 'stores'], ['sku', 'skus'], ['user', 'users']] as const) {
    const model = `postgres:${name}`;
    const found = new Map<string, z.infer<typeof revisionRow>>((await pool.any(sql.unsafe`select id, revision, position from ${table(name)}`)).map((raw) => {
      const row = revisionRow.parse(raw);
      return [`${category}-${row.id}`, row] as const;
    }));
    for (const [stream, fold] of streams) {
      if (!stream.startsWith(`${category}-`)) continue;
      const row = found.get(stream) ?? null;
      const verdict = judge(fold, row, watermark);
      if (verdict === 'missing') differences.push({ stream, model, field: 'row', expected: `revision ${fold.revision}`, found: null });
      if (verdict === 'stale') differences.push({ stream, model, field: 'revision', expected: fold.revision, found: row!.revision });
      found.delete(stream);
    }
    for (const [stream, row] of found) {
      if (row.position <= head) differences.push({ stream, model, field: 'row', expected: null, found: `revision ${row.revision}`, detail: 'a row without events' });
    }
  }
}

/** The Redis hot model: every stock item's hash against its fold. */
export async function compareRedis(redis: Redis, streams: ReadonlyMap<string, StreamFold>, differences: Difference[]): Promise<void> {
  const watermark = lowestProgress(progressHash.parse(await redis.hgetall(keys.progress))) ?? 0n;
  const items = [...streams].filter(([, fold]) => fold.level !== null);
  for (let start = 0; start < items.length; start += 500) {
    const batch = items.slice(start, start + 500);
    const pipeline = redis.pipeline();
    for (const [stream] of batch) {
      const { storeId, skuId } = itemOfStream(stream);
      pipeline.hgetall(keys.item(storeId, skuId));
    }
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach(([stream, fold], index) => {
      const [error, reply] = replies[index] ?? [new Error('no reply'), null];
      const model = 'redis';
      if (error) {
        differences.push({ stream, model, field: 'row', expected: 'readable', found: error.message });
        return;
      }
      const level = fold.level!;
      const parsed = itemHash.safeParse(reply);
      if (!parsed.success) {
        differences.push({ stream, model, field: 'row', expected: 'an item hash', found: reply, detail: parsed.error.message });
        return;
      }
      const row = parsed.data;
      // A removed item may be dropped from the hot model altogether.
      if (row === null && level.removed) return;
      const verdict = judge(level, row, watermark);
      if (verdict === 'missing') differences.push({ stream, model, field: 'row', expected: `revision ${level.revision}`, found: null });
      if (verdict === 'stale') differences.push({ stream, model, field: 'revision', expected: level.revision, found: row!.revision });
      if (verdict !== 'compare' || !row) return;
      if (row.quantity !== level.quantity) differences.push({ stream, model, field: 'quantity', expected: level.quantity, found: row.quantity, revision: level.revision });
      if (row.lowStockThreshold !== level.lowStockThreshold) differences.push({ stream, model, field: 'lowStockThreshold', expected: level.lowStockThreshold, found: row.lowStockThreshold, revision: level.revision });
      if (row.removed !== level.removed) differences.push({ stream, model, field: 'removed', expected: level.removed, found: row.removed, revision: level.revision });
    });
  }
}

/**
 * The ledger behind asOf: each item's newest row must be its fold. (Every row is one event's
 * level, and each was checked the same way when it was the newest: a row altered later in
 * the middle of the ledger is not found here, a cost kept off this pass.)
 */
async function compareLedger(
  pool: DatabasePool,
  ledger: ReturnType<typeof sql.identifier>,
  streams: ReadonlyMap<string, StreamFold>,
  watermark: bigint,
  differences: Difference[],
): Promise<void> {
  const model = 'postgres:stock_ledger';
  const newest = new Map<string, z.infer<typeof stockRow>>();
  for (const raw of await pool.any(sql.unsafe`
    select distinct on (store_id, sku_id) store_id, sku_id, quantity, low_stock_threshold, removed, revision, position
      from ${ledger} order by store_id, sku_id, position desc`)) {
    const row = stockRow.parse(raw);
    newest.set(`stockitem-${row.store_id}_${row.sku_id}`, row);
  }
  for (const [stream, fold] of streams) {
    if (!fold.level) continue;
    const level = fold.level;
    const row = newest.get(stream) ?? null;
    const verdict = judge(level, row, watermark);
    if (verdict === 'missing') differences.push({ stream, model, field: 'row', expected: `revision ${level.revision}`, found: null });
    if (verdict === 'stale') differences.push({ stream, model, field: 'revision', expected: level.revision, found: row!.revision });
    if (verdict !== 'compare' || !row) continue;
    if (row.quantity !== level.quantity) differences.push({ stream, model, field: 'quantity', expected: level.quantity, found: row.quantity, revision: level.revision });
    if (row.low_stock_threshold !== level.lowStockThreshold) differences.push({ stream, model, field: 'lowStockThreshold', expected: level.lowStockThreshold, found: row.low_stock_threshold, revision: level.revision });
    if (row.removed !== level.removed) differences.push({ stream, model, field: 'removed', expected: level.removed, found: row.removed, revision: level.revision });
  }
}
