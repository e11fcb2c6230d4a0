import { z } from 'zod/v4';
import type { StockLevel } from '../stock-level.js';

/**
 * The Redis read model's keys (the client adds its prefix, e.g. `stockroom:`):
 *
 * - `item:<storeId>:<skuId>`  hash {quantity, lowStockThreshold, removed (0/1), revision, position}
 * - `store:<storeId>:items`   sorted set of the store's present skuIds, all scored 0 so that
 *                             they sort by id (UUID v7: by creation) and page with ZRANGE BYLEX
 * - `store:<storeId>:low`     set of the store's skuIds at or below their threshold
 * - `low`                     set of `<storeId>:<skuId>` at or below their threshold, every store
 * - `progress`                hash partition → position applied through (decimal)
 * - `meta`                    hash: `runId` = the Redis run_id on which the model was last
 *                             complete; `rebuilding` = token of a rebuild in progress
 */
export const keys = {
  item: (storeId: string, skuId: string) => `item:${storeId}:${skuId}`,
  storeItems: (storeId: string) => `store:${storeId}:items`,
  storeLow: (storeId: string) => `store:${storeId}:low`,
  low: 'low',
  progress: 'progress',
  meta: 'meta',
} as const;

export const lowMember = (storeId: string, skuId: string): string => `${storeId}:${skuId}`;

export const STOCK_ITEM_CATEGORY = 'stockitem';

/** `stockitem-<storeId>_<skuId>` → its ids. */
export function itemOfStream(streamId: string): { storeId: string; skuId: string } {
  const [storeId = '', skuId = ''] = streamId.slice(streamId.indexOf('-') + 1).split('_');
  return { storeId, skuId };
}

/** One stock item as the Redis model keeps it: its level, nothing more. */
export type RedisItemRow = StockLevel;

/** Low stock as everywhere else in Stockroom (read API, summary): at or below the threshold. */
export const isLow = (row: Pick<RedisItemRow, 'quantity' | 'lowStockThreshold' | 'removed'>): boolean =>
  !row.removed && row.quantity <= row.lowStockThreshold;

const count = z.string().regex(/^\d+$/).transform(Number).pipe(z.int().nonnegative());

/** An item hash as HGETALL returns it: {} when the key does not exist. */
export const itemHash = z.union([
  z.object({}).strict().transform(() => null),
  z.object({
    quantity: count,
    lowStockThreshold: count,
    removed: z.enum(['0', '1']).transform((flag) => flag === '1'),
    revision: count,
    position: z.string().regex(/^\d+$/).transform(BigInt),
  }),
]);

/** The fields of an item hash a point read asks for (HMGET), in this order. */
export const ITEM_FIELD_NAMES = ['quantity', 'lowStockThreshold', 'removed', 'revision'] as const;

const DIGITS = /^\d+$/;
const isDigits = (value: unknown): value is string => typeof value === 'string' && DIGITS.test(value);

/**
 * The HMGET of ITEM_FIELD_NAMES: null when the hash does not exist (every field nil). The
 * same checks as itemHash (decimal digits, a 0/1 flag, safe integers), written out by hand
 * rather than with zod: it is on the point read's path, once per answer, and a tuple of four
 * strings needs no parser (docs/decisions.md). A hash missing some fields, or any value of
 * another shape, is refused like a malformed one.
 */
export function itemFields(reply: unknown): { quantity: number; lowStockThreshold: number; removed: boolean; revision: number } | null {
  if (!Array.isArray(reply) || reply.length !== ITEM_FIELD_NAMES.length) throw new Error(`item fields malformed: ${JSON.stringify(reply)}`);
  const [quantity, lowStockThreshold, removed, revision] = reply as unknown[];
  if (quantity === null && lowStockThreshold === null && removed === null && revision === null) return null;
  if (!isDigits(quantity) || !isDigits(lowStockThreshold) || (removed !== '0' && removed !== '1') || !isDigits(revision)) {
    throw new Error(`item hash incomplete or malformed: ${JSON.stringify(reply)}`);
  }
  const row = { quantity: Number(quantity), lowStockThreshold: Number(lowStockThreshold), removed: removed === '1', revision: Number(revision) };
  if (!Number.isSafeInteger(row.quantity) || !Number.isSafeInteger(row.lowStockThreshold) || !Number.isSafeInteger(row.revision)) {
    throw new Error(`item hash out of range: ${JSON.stringify(reply)}`);
  }
  return row;
}

/** The `progress` hash: partition → position. */
export const progressHash = z.record(z.string().regex(/^\d+$/), z.string().regex(/^\d+$/).transform(BigInt));

/** min over the partitions, null when none is registered. */
export const lowestProgress = (progress: Record<string, bigint>): bigint | null =>
  Object.values(progress).reduce<bigint | null>((min, through) => (min === null || through < min ? through : min), null);
