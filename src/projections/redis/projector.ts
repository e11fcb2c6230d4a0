import { catchUp } from '../../shared/event-store/catch-up.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod/v4';
import type { BusBatch } from '../../shared/event-bus/port.js';
import { type EventStore, type RecordedEvent, streamCategory } from '../../shared/event-store/port.js';
import { execAll, LuaScript, type Redis, serverRunId } from '../../shared/redis.js';
import { foldItem } from './evolve.js';
import { itemHash, itemOfStream, keys, lowestProgress, lowMember, progressHash, type RedisItemRow, STOCK_ITEM_CATEGORY } from '../../shared/hot-model/keys.js';

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
const RENEW = new LuaScript(`
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
const FINISH = new LuaScript(`${LUA_GREATER}
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
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

const REBUILD_LOCK = 'rebuild';

/** Another replica is rebuilding the model; the batch is retried later. */
export class RebuildInProgress extends Error {
  constructor() {
    super('The Redis read model is being rebuilt by another projector; the batch will be applied after it.');
    this.name = 'RebuildInProgress';
  }
}

/** The rebuild lost its lease (Redis restarted, or it stalled past the lease); it starts over later. */
export class RebuildInterrupted extends Error {
  constructor() {
    super('The rebuild of the Redis read model lost its lease; it will start over.');
    this.name = 'RebuildInterrupted';
  }
}

export interface RedisProjectorOptions {
  /** Events per read of the event store during a rebuild. */
  rebuildPageSize?: number;
  /** Items per script call during a rebuild (each call blocks Redis for its duration). */
  rebuildChunkSize?: number;
  /** How long a rebuild keeps its lock without renewing it (a crashed rebuilder frees it then). */
  rebuildLeaseMs?: number;
}

const scriptResult = z.int();

const position = (value: bigint): string => (value < 0n ? 0n : value).toString();

/**
 * Applies batches of stock-item events to the Redis read model, with the PostgreSQL
 * projector's rules: one read of the rows a batch touches, the events folded per stream, a
 * repeat (revision at or below the row's) changes nothing, a gap (a revision beyond the next)
 * is filled from the event store, and the rows are written in one script with the partition's
 * progress. The script writes a row only over an older revision, so two replicas sharing
 * partitions never move a row back.
 *
 * Redis keeps nothing across a restart (and a persisted Redis may come back with an old
 * snapshot): the model records the run_id of the server it is complete on, and a batch never
 * lands in a model that is not. It first rebuilds from the event store (under a lease, one
 * replica at a time), so that items nobody touches again are not missing.
 */
export class RedisProjector {
  private partitions = 0;
  private rebuilding: Promise<void> | null = null;
  private readonly pageSize: number;
  private readonly chunkSize: number;
  private readonly leaseMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly store: EventStore,
    options: RedisProjectorOptions = {},
  ) {
    this.pageSize = options.rebuildPageSize ?? 1_000;
    this.chunkSize = options.rebuildChunkSize ?? 200;
    this.leaseMs = options.rebuildLeaseMs ?? 30_000;
  }

  /** Throws while Redis is away: the bus delivers the same batch again later. */
  async applyBatch(batch: BusBatch): Promise<void> {
    const streams = new Map<string, RecordedEvent[]>();
    for (const event of batch.events) {
      if (streamCategory(event.streamId) !== STOCK_ITEM_CATEGORY) continue;
      const list = streams.get(event.streamId);
      if (list) list.push(event);
      else streams.set(event.streamId, [event]);
    }
    const streamIds = [...streams.keys()];
    for (let attempt = 1; ; attempt += 1) {
      const runId = await serverRunId(this.redis);
      // A batch of only a watermark needs no read: the script checks completeness itself.
      const loaded = streamIds.length === 0 ? new Map<string, RedisItemRow>() : await this.load(runId, streamIds);
      if (loaded) {
        const changed: RedisItemRow[] = [];
        for (const streamId of streamIds) {
          const start = loaded.get(streamId) ?? null;
          const row = await this.fold(start, streamId, streams.get(streamId) ?? []);
          if (row && row !== start) changed.push(row);
        }
        const written = await this.write(['batch', runId, String(batch.partition), position(batch.through)], changed);
        if (written !== -1) return;
      }
      // Not complete on this server (new, restarted, flushed): rebuild, then apply.
      if (attempt >= 3) throw new Error('The Redis read model is still incomplete after a rebuild');
      await this.rebuild();
    }
  }

  /** Seeds a progress field per partition, so that the watermark waits for all of them. */
  async registerPartitions(count: number): Promise<void> {
    this.partitions = Math.max(this.partitions, count);
    if (count === 0) return;
    const multi = this.redis.multi();
    for (let partition = 0; partition < count; partition += 1) multi.hsetnx(keys.progress, String(partition), '0');
    await execAll(multi);
  }

  /** min over the partitions' progress; null when none is registered or the model is not complete. */
  async watermark(): Promise<bigint | null> {
    const runId = await serverRunId(this.redis);
    const [complete, progress] = await execAll(this.redis.multi().hget(keys.meta, 'runId').hgetall(keys.progress));
    if (complete !== runId) return null;
    return lowestProgress(progressHash.parse(progress));
  }

  /**
   * Reads the whole event store into the model, then marks it complete on this server with
   * every partition's progress at the position it read through. One replica at a time (a
   * lease in Redis); concurrent callers in this process share one run.
   */
  rebuild(): Promise<void> {
    this.rebuilding ??= this.rebuildOnce().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private async rebuildOnce(): Promise<void> {
    const runId = await serverRunId(this.redis);
    const token = randomUUID();
    if ((await this.redis.set(REBUILD_LOCK, token, 'PX', this.leaseMs, 'NX')) !== 'OK') throw new RebuildInProgress();
    try {
      // Another replica may have completed it between our look and our lock.
      if ((await this.redis.hget(keys.meta, 'runId')) === runId) return;
      await this.rebuildUnder(token, runId);
    } finally {
      // Done, or failed: either way the next one need not wait for the lease to run out.
      await RELEASE.run(this.redis, [REBUILD_LOCK], [token]).catch(() => {});
    }
  }

  private async rebuildUnder(token: string, runId: string): Promise<void> {
    const rows = new Map<string, RedisItemRow | null>();
    const through = await catchUp(this.store, {
      after: 0n,
      batchSize: this.pageSize,
      onEvents: async (events) => {
        for (const event of events) {
          if (streamCategory(event.streamId) !== STOCK_ITEM_CATEGORY) continue;
          rows.set(event.streamId, foldItem(rows.get(event.streamId) ?? null, [event]));
        }
        await this.renew(token);
      },
    });
    const present = [...rows.values()].filter((row): row is RedisItemRow => row !== null);
    for (let start = 0; start < present.length; start += this.chunkSize) {
      const written = await this.write(['rebuild', token, String(this.leaseMs), ''], present.slice(start, start + this.chunkSize));
      if (written === -2) throw new RebuildInterrupted();
    }
    const partitions = Array.from({ length: this.partitions }, (_, partition) => String(partition));
    const finished = scriptResult.parse(
      await FINISH.run(this.redis, [keys.meta, keys.progress, REBUILD_LOCK], [token, runId, through.toString(), ...partitions]),
    );
    if (finished === -2) throw new RebuildInterrupted();
  }

  private async renew(token: string): Promise<void> {
    if (scriptResult.parse(await RENEW.run(this.redis, [REBUILD_LOCK], [token, this.leaseMs])) !== 1) throw new RebuildInterrupted();
  }

  /** The stored rows of these streams, or null when the model is not complete on this server. */
  private async load(runId: string, streamIds: readonly string[]): Promise<Map<string, RedisItemRow> | null> {
    const multi = this.redis.multi().hget(keys.meta, 'runId');
    for (const streamId of streamIds) {
      const { storeId, skuId } = itemOfStream(streamId);
      multi.hgetall(keys.item(storeId, skuId));
    }
    const [complete, ...hashes] = await execAll(multi);
    if (complete !== runId) return null;
    const rows = new Map<string, RedisItemRow>();
    streamIds.forEach((streamId, index) => {
      const stored = itemHash.parse(hashes[index]);
      if (stored) rows.set(streamId, { ...itemOfStream(streamId), ...stored });
    });
    return rows;
  }

  /** The row after the delivered events; a gap is filled from the event store, never skipped. */
  private async fold(start: RedisItemRow | null, streamId: string, delivered: readonly RecordedEvent[]): Promise<RedisItemRow | null> {
    const after = start?.revision ?? -1;
    const byRevision = new Map<number, RecordedEvent>();
    for (const event of delivered) if (event.revision > after) byRevision.set(event.revision, event);
    let events = [...byRevision.values()].sort((a, b) => a.revision - b.revision);
    const last = events.at(-1);
    if (!last) return start;
    const contiguous = (list: readonly RecordedEvent[]) => list.every((event, index) => event.revision === after + 1 + index);
    if (!contiguous(events)) {
      events = await this.store.readStream(streamId, { fromRevision: after + 1, maxCount: last.revision - after });
      if (!contiguous(events) || events.at(-1)?.revision !== last.revision) {
        throw new Error(`${streamId}: the event store did not return revisions ${after + 1} to ${last.revision}`);
      }
    }
    return foldItem(start, events);
  }

  private async write(head: [mode: 'batch' | 'rebuild', id: string, partitionOrLease: string, through: string], rows: readonly RedisItemRow[]): Promise<number> {
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
    return scriptResult.parse(await APPLY.run(this.redis, scriptKeys, args));
  }
}
