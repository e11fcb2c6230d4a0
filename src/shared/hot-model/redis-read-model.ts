import type { ChainableCommander } from 'ioredis';
import { z } from 'zod/v4';
import { execAll, isRedisReady, LuaScript, type Redis, serverRunId } from '../redis.js';
import { isLow, itemFields, itemHash, ITEM_FIELD_NAMES, keys, lowestProgress, progressHash } from './keys.js';

/** One stock item as the read API answers it. */
export interface RedisStockItem {
  storeId: string;
  skuId: string;
  quantity: number;
  lowStockThreshold: number;
  revision: number;
}

const members = z.array(z.string());

/**
 * The point reads of one turn of the event loop in one command: the model's completeness
 * marker, then each item's fields, read atomically like the MULTI the other reads send. One
 * command for many reads: the client builds, writes (one write call, the largest part of a
 * point read's CPU in a profile) and parses one command instead of one per request, and
 * Redis runs one script.
 */
const ITEMS_READ = new LuaScript(
  `local replies = {redis.call('HGET', KEYS[1], 'runId')}
for i = 2, #KEYS do replies[i] = redis.call('HMGET', KEYS[i], ${ITEM_FIELD_NAMES.map((name) => `'${name}'`).join(', ')}) end
return replies`,
);
/** Items per script at most: a burst larger than this is sent as several scripts. */
const MAX_ITEMS_PER_READ = 256;

/** A point read waiting for its turn's script: the item asked for and its caller's promise. */
interface PendingItem {
  key: string;
  storeId: string;
  skuId: string;
  resolve: (item: RedisStockItem | null | undefined) => void;
}

/**
 * Point reads of the Redis read model for the read API. Each method answers `undefined`
 * when Redis cannot answer (away, slow past its command timeout, an error, or a model that
 * is not complete on the server it reaches: just restarted, being rebuilt): the caller then
 * asks PostgreSQL, silently. `null` means Redis knows and the thing does not exist.
 *
 * After a failure Redis is left alone for a second (`pauseAfterFailureMs`): a Redis that
 * hangs costs one request its command timeout, not every request.
 *
 * Each read checks, in the same MULTI, that the model is complete on this very server, so
 * that an emptied Redis is never taken for "no such item".
 */
export class RedisReadModel {
  /** After a failure (a timeout: Redis hangs), Redis is skipped until then, so that not every request waits out the timeout. */
  private skipUntil = 0;
  /** Point reads asked for in this turn of the event loop, read together when it ends (readItem). */
  private pending: PendingItem[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly options: { pauseAfterFailureMs?: number } = {},
  ) {}

  /**
   * The item, null when it is not in the store (never added, or removed). The point read:
   * one promise per request, settled by the turn's batch (readItems), where guard() and an
   * async body would cost it three.
   */
  item(storeId: string, skuId: string): Promise<RedisStockItem | null | undefined> {
    if (!this.available()) return Promise.resolve(undefined);
    // No closure of its own per read (each would be named at runtime too, under tsx): the
    // turn's batch settles the promise from the fields it read (itemOf).
    return new Promise((resolve) => {
      if (this.pending.length === 0) setImmediate(this.flush);
      this.pending.push({ key: keys.item(storeId, skuId), storeId, skuId, resolve });
    });
  }

  /** One point read's answer from its hash's fields; a malformed hash pauses Redis and answers undefined. */
  private itemOf(read: PendingItem, values: unknown): RedisStockItem | null | undefined {
    let row: ReturnType<typeof itemFields>;
    try {
      row = itemFields(values);
    } catch {
      this.failed();
      return undefined;
    }
    return !row || row.removed
      ? null
      : { storeId: read.storeId, skuId: read.skuId, quantity: row.quantity, lowStockThreshold: row.lowStockThreshold, revision: row.revision };
  }

  /** The items present in one store, by skuId. [] for a store without items (or unknown). */
  storeItems(storeId: string): Promise<RedisStockItem[] | undefined> {
    return this.guard(async () => {
      const replies = await this.read((multi) => multi.zrange(keys.storeItems(storeId), 0, -1));
      if (!replies) return undefined;
      return this.items(members.parse(replies[0]).map((skuId) => ({ storeId, skuId })), () => true);
    });
  }

  /** Items at or below their threshold, of one store or of every store, by store then SKU. */
  lowStock(storeId?: string): Promise<RedisStockItem[] | undefined> {
    return this.guard(async () => {
      const replies = await this.read((multi) => multi.smembers(storeId === undefined ? keys.low : keys.storeLow(storeId)));
      if (!replies) return undefined;
      const ids = members.parse(replies[0]).map((member) => {
        if (storeId !== undefined) return { storeId, skuId: member };
        const [store = '', sku = ''] = member.split(':');
        return { storeId: store, skuId: sku };
      });
      return this.items(ids, isLow);
    });
  }

  /** Every partition has been applied through this position; null when none is registered. */
  watermark(): Promise<bigint | null | undefined> {
    return this.guard(async () => {
      const replies = await this.read((multi) => multi.hgetall(keys.progress));
      if (!replies) return undefined;
      return lowestProgress(progressHash.parse(replies[0]));
    });
  }

  /** Present items among these ids that pass the filter, read in one MULTI. */
  private async items(
    ids: readonly { storeId: string; skuId: string }[],
    keep: (row: { quantity: number; lowStockThreshold: number; removed: boolean }) => boolean,
  ): Promise<RedisStockItem[] | undefined> {
    if (ids.length === 0) return [];
    const replies = await this.read((multi) => {
      for (const { storeId, skuId } of ids) multi.hgetall(keys.item(storeId, skuId));
    });
    if (!replies) return undefined;
    const found: RedisStockItem[] = [];
    ids.forEach(({ storeId, skuId }, index) => {
      const row = itemHash.parse(replies[index]);
      // A set and its hashes are written in one script, but read here in two steps: a row
      // may have changed in between; the hash is the newer truth.
      if (row && !row.removed && keep(row)) {
        found.push({ storeId, skuId, quantity: row.quantity, lowStockThreshold: row.lowStockThreshold, revision: row.revision });
      }
    });
    return found.sort((a, b) => (a.storeId === b.storeId ? compare(a.skuId, b.skuId) : compare(a.storeId, b.storeId)));
  }

  /** The replies of the commands, or null when the model is not complete on this server. */
  private async read(commands: (multi: ChainableCommander) => void): Promise<unknown[] | null> {
    const runId = await serverRunId(this.redis);
    const multi = this.redis.multi().hget(keys.meta, 'runId');
    commands(multi);
    const [complete, ...replies] = await execAll(multi);
    return complete === runId ? replies : null;
  }

  /**
   * A point read (item) asks for one item hash's fields (HMGET of ITEM_FIELD_NAMES), read with
   * every other point read asked for in the same turn of the event loop: the requests that
   * arrived together are read by one script when the turn's I/O callbacks are done
   * (setImmediate, queued by the turn's first read), at a cost of no more than that turn to each.
   */
  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    for (let start = 0; start < batch.length; start += MAX_ITEMS_PER_READ) void this.readItems(batch.slice(start, start + MAX_ITEMS_PER_READ));
  };

  private async readItems(batch: readonly PendingItem[]): Promise<void> {
    try {
      const runId = await serverRunId(this.redis);
      const reply = await ITEMS_READ.run(this.redis, [keys.meta, ...batch.map((item) => item.key)], []);
      if (!Array.isArray(reply) || reply.length !== batch.length + 1) throw new Error(`unexpected reply to a point read of ${batch.length} items`);
      const replies: readonly unknown[] = reply;
      // Not complete on this server: every read of the batch goes to PostgreSQL.
      const complete = replies[0] === runId;
      // Each item's fields are checked on their own (itemOf): one malformed hash fails one read.
      for (let index = 0; index < batch.length; index += 1) {
        const read = batch[index]!;
        read.resolve(complete ? this.itemOf(read, replies[index + 1]) : undefined);
      }
    } catch {
      this.failed();
      for (const read of batch) read.resolve(undefined);
    }
  }

  /** Not connected (a command would fail at once anyway: not even built), or paused after a failure. */
  private available(): boolean {
    return isRedisReady(this.redis) && Date.now() >= this.skipUntil;
  }

  private failed(): void {
    this.skipUntil = Date.now() + (this.options.pauseAfterFailureMs ?? 1_000);
  }

  private async guard<T>(read: () => Promise<T>): Promise<T | undefined> {
    if (!this.available()) return undefined;
    try {
      return await read();
    } catch {
      this.failed();
      return undefined;
    }
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
