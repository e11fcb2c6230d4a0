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
 * A point read in one command: the model's completeness marker and the item's fields, read
 * atomically like the MULTI the other reads send (a MULTI of two commands was four commands
 * for the client to build and parse: the largest part of a point read's Redis cost).
 */
const ITEM_READ = new LuaScript(
  `return {redis.call('HGET', KEYS[1], 'runId'), redis.call('HMGET', KEYS[2], ${ITEM_FIELD_NAMES.map((name) => `'${name}'`).join(', ')})}`,
);
const itemReply = z.tuple([z.string().nullable(), z.array(z.unknown())]);

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

  constructor(
    private readonly redis: Redis,
    private readonly options: { pauseAfterFailureMs?: number } = {},
  ) {}

  /** The item, null when it is not in the store (never added, or removed). */
  item(storeId: string, skuId: string): Promise<RedisStockItem | null | undefined> {
    return this.guard(async () => {
      const runId = await serverRunId(this.redis);
      const [complete, values] = itemReply.parse(await ITEM_READ.run(this.redis, [keys.meta, keys.item(storeId, skuId)], []));
      if (complete !== runId) return undefined;
      const row = itemFields(values);
      if (!row || row.removed) return null;
      return { storeId, skuId, quantity: row.quantity, lowStockThreshold: row.lowStockThreshold, revision: row.revision };
    });
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

  private async guard<T>(read: () => Promise<T>): Promise<T | undefined> {
    // Not connected: a command would fail at once anyway; skip even building it.
    if (!isRedisReady(this.redis) || Date.now() < this.skipUntil) return undefined;
    try {
      return await read();
    } catch {
      this.skipUntil = Date.now() + (this.options.pauseAfterFailureMs ?? 1_000);
      return undefined;
    }
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
