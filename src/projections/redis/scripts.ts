import { z } from 'zod/v4';
import { itemOfStream, keys, lowMember, type RedisItemRow } from '../../shared/hot-model/keys.js';
import { execAll, LuaScript, type Redis } from '../../shared/redis.js';

/**
 * The Lua scripts of the Redis read model: each runs atomically on the server, so a row
 * is never written over a newer revision of itself, a batch never lands in a model that is
 * not complete, and a rebuild writes only while it holds its lease.
 */

/** `greater(a, b)`: a > b for decimal strings of non-negative integers (positions outgrow Lua's doubles). */
const LUA_GREATER = `
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end`;

/**
 * Writes item rows, each only over an older revision of itself, with the sets that follow
 * from it; in a batch, also the partition's progress. All or nothing (a script is atomic).
 *
 * KEYS: meta, progress, low, rebuild lock, then per item: item hash, store items, store low.
 * ARGV: mode ('batch' | 'rebuild'), then for a batch: run id, partition, through; for a
 *       rebuild: lease token, lease ms (renewed), ''; then per item: low member, skuId, revision, position, quantity,
 *       lowStockThreshold, removed (0/1).
 * Returns the number of rows written; -1 when the model is not complete on this server (a
 * batch must not land in a model that lost its past); -2 when the rebuild lease is lost.
 */
const APPLY = new LuaScript(`${LUA_GREATER}
if ARGV[1] == 'batch' then
  if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[2] then return -1 end
elseif redis.call('GET', KEYS[4]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
else
  return -2
end
local written = 0
for i = 0, (#KEYS - 4) / 3 - 1 do
  local k = 5 + 3 * i
  local a = 5 + 7 * i
  local stored = tonumber(redis.call('HGET', KEYS[k], 'revision') or '-1')
  if stored < tonumber(ARGV[a + 2]) then
    local sku, removed = ARGV[a + 1], ARGV[a + 6]
    redis.call('HSET', KEYS[k], 'quantity', ARGV[a + 4], 'lowStockThreshold', ARGV[a + 5], 'removed', removed,
      'revision', ARGV[a + 2], 'position', ARGV[a + 3])
    if removed == '1' then
      redis.call('ZREM', KEYS[k + 1], sku)
    else
      redis.call('ZADD', KEYS[k + 1], 0, sku)
    end
    if removed == '0' and tonumber(ARGV[a + 4]) <= tonumber(ARGV[a + 5]) then
      redis.call('SADD', KEYS[k + 2], sku)
      redis.call('SADD', KEYS[3], ARGV[a])
    else
      redis.call('SREM', KEYS[k + 2], sku)
      redis.call('SREM', KEYS[3], ARGV[a])
    end
    written = written + 1
  end
end
if ARGV[1] == 'batch' then
  local current = redis.call('HGET', KEYS[2], ARGV[3])
  if not current or greater(ARGV[4], current) then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
end
return written`);

/** KEYS: rebuild lock. ARGV: token, lease ms. Extends the lease if it is still ours. */
export const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`);

/**
 * Ends a rebuild: every partition (known ones and ARGV[4..]) has applied everything up to
 * the position the rebuild read through, and the model is complete on this server.
 * KEYS: meta, progress, rebuild lock. ARGV: token, run id, through, partitions...
 * Returns 1 (done), 0 (someone else completed it meanwhile), -2 (lease lost).
 */
export const FINISH = new LuaScript(`${LUA_GREATER}
if redis.call('GET', KEYS[3]) == ARGV[1] then
  local partitions = redis.call('HKEYS', KEYS[2])
  for i = 4, #ARGV do partitions[#partitions + 1] = ARGV[i] end
  for _, partition in ipairs(partitions) do
    local current = redis.call('HGET', KEYS[2], partition)
    if not current or greater(ARGV[3], current) then redis.call('HSET', KEYS[2], partition, ARGV[3]) end
  end
  redis.call('HSET', KEYS[1], 'runId', ARGV[2])
  redis.call('DEL', KEYS[3])
  return 1
end
if redis.call('HGET', KEYS[1], 'runId') == ARGV[2] then return 0 end
return -2`);

/** KEYS: rebuild lock. ARGV: token. Frees the lock if it is still ours. */
export const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** The key of the rebuild's lease (one rebuilder at a time, across replicas). */
export const REBUILD_LOCK = 'rebuild';

export const scriptResult = z.int();

/** A position as the scripts compare it: a decimal string, never negative. */
export const position = (value: bigint): string => (value < 0n ? 0n : value).toString();

/** What APPLY is told before the rows: a batch's run id, partition and through, or a rebuild's lease token and length. */
export type ApplyHead = [mode: 'batch' | 'rebuild', id: string, partitionOrLease: string, through: string];

/** Runs APPLY over these rows; answers its result (rows written, -1 not complete, -2 lease lost). */
export async function applyItems(redis: Redis, head: ApplyHead, rows: readonly RedisItemRow[]): Promise<number> {
  const scriptKeys: string[] = [keys.meta, keys.progress, keys.low, REBUILD_LOCK];
  const args: string[] = [...head];
  for (const row of rows) {
    scriptKeys.push(keys.item(row.storeId, row.skuId), keys.storeItems(row.storeId), keys.storeLow(row.storeId));
    args.push(
      lowMember(row.storeId, row.skuId),
      row.skuId,
      String(row.revision),
      row.position.toString(),
      String(row.quantity),
      String(row.lowStockThreshold),
      row.removed ? '1' : '0',
    );
  }
  return scriptResult.parse(await APPLY.run(redis, scriptKeys, args));
}

/**
 * Takes items out of the model (a stream stopped at an event this release cannot read):
 * point reads of them then fall back to PostgreSQL, which says the stream is stuck, instead
 * of answering a row that stopped short of that event.
 */
export async function forgetItems(redis: Redis, streamIds: readonly string[]): Promise<void> {
  if (streamIds.length === 0) return;
  const multi = redis.multi();
  for (const streamId of streamIds) {
    const { storeId, skuId } = itemOfStream(streamId);
    multi.del(keys.item(storeId, skuId)).zrem(keys.storeItems(storeId), skuId).srem(keys.storeLow(storeId), skuId).srem(keys.low, lowMember(storeId, skuId));
  }
  await execAll(multi);
}
