/**
 * A history written the way production writes it: through es_append, by concurrent
 * writers, each append expecting the revision its writer last saw (a lost race is counted
 * and the writer draws another item; the winner's event stands). Unlike the COPY load,
 * positions are drawn by racing transactions, so rows lie in the table in commit order
 * rather than in position order, and some positions are never used: one adjustment attempt
 * in GAP_EVERY is made inside a transaction that is rolled back after its position was
 * drawn (a writer whose command failed after its append), which leaves a hole the
 * subscription must step over.
 *
 * Same shape as stock-history.ts (stores, SKUs, every SKU in every store, then stock
 * adjustments with a correct quantityAfter), a fifth of the adjustments on ten hot items
 * so that writers race for the same streams.
 */
import type pg from 'pg';
import type { DatabasePool } from '../../src/shared/db/pool.js';
import { type EventToAppend, WrongExpectedRevision } from '../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { newId } from '../../src/shared/ids.js';
import { skuStream, stockItemStream, storeStream } from '../../src/write/streams.js';
import { historyShape } from './stock-history.js';

/** One append in this many is rolled back after drawing its position. */
const GAP_EVERY = 200;
const HOT_ITEMS = 10;

export interface AppendedHistory {
  events: number;
  items: { storeId: string; skuId: string }[];
  /** Units over every item at the end: what the read model must show. */
  totalQuantity: number;
  /** Appends that lost a race (the writer then drew another item). */
  conflicts: number;
  /** Appends rolled back after drawing a position. */
  rolledBack: number;
}

const ACTOR = newId();

const envelope = (type: string, data: unknown): EventToAppend => ({
  id: newId(),
  type,
  data,
  metadata: { actor: ACTOR, correlationId: newId(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
});

/** Calls `work` from `writers` concurrent loops until it returns false. */
async function concurrently(writers: number, work: () => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (await work()) {
        // next
      }
    }),
  );
}

export async function appendHistory(options: {
  pool: DatabasePool;
  appendPool: pg.Pool;
  events: number;
  writers: number;
  progress: (appended: number, total: number) => void;
}): Promise<AppendedHistory> {
  const shape = historyShape(options.events);
  const store = new PostgresEventStore(options.pool, options.appendPool);
  const storeIds = Array.from({ length: shape.stores }, () => newId());
  const skuIds = Array.from({ length: shape.skus }, () => newId());
  const items = storeIds.flatMap((storeId) => skuIds.map((skuId) => ({ storeId, skuId, stream: stockItemStream(storeId, skuId) })));
  const quantities = new Int32Array(items.length);
  const revisions = new Int32Array(items.length).fill(-1);
  let appended = 0;
  let conflicts = 0;
  let rolledBack = 0;
  let reported = 0;
  const counted = () => {
    appended += 1;
    if (appended - reported >= shape.events / 10) {
      reported = appended;
      options.progress(appended, shape.events);
    }
  };

  // Creations: each a new stream, expected no_stream.
  const creations: (() => [string, EventToAppend])[] = [
    ...storeIds.map((storeId, index) => () => [storeStream(storeId), envelope('StoreOpened', { storeId, name: `Store ${index + 1}`, code: null, address: null })] as [string, EventToAppend]),
    ...skuIds.map((skuId, index) => () =>
      [
        skuStream(skuId),
        envelope('SkuCreated', { skuId, code: `SKU-${String(index + 1).padStart(6, '0')}`, name: `Article ${index + 1}`, category: null, unit: 'pcs', price: null, lowStockThreshold: 5 }),
      ] as [string, EventToAppend],
    ),
  ];
  let next = 0;
  await concurrently(options.writers, async () => {
    const create = creations[next];
    next += 1;
    if (!create) return false;
    const [stream, event] = create();
    await store.append(stream, [event], 'no_stream');
    counted();
    return true;
  });
  next = 0;
  await concurrently(options.writers, async () => {
    const position = next;
    next += 1;
    const item = items[position];
    if (!item) return false;
    const quantity = 20 + Math.floor(Math.random() * 200);
    await store.append(item.stream, [envelope('StockItemAdded', { storeId: item.storeId, skuId: item.skuId, quantity, lowStockThreshold: 5 })], 'no_stream');
    quantities[position] = quantity;
    revisions[position] = 0;
    counted();
    return true;
  });

  // Adjustments until the count is reached.
  let attempts = 0;
  await concurrently(options.writers, async () => {
    if (appended >= shape.events) return false;
    const position = Math.random() < 0.2 ? Math.floor(Math.random() * Math.min(HOT_ITEMS, items.length)) : Math.floor(Math.random() * items.length);
    const item = items[position]!;
    const quantity = quantities[position] ?? 0;
    const revision = revisions[position] ?? 0;
    const selling = Math.random() < 0.6 && quantity >= 5;
    const delta = selling ? -(1 + Math.floor(Math.random() * 5)) : 24 + Math.floor(Math.random() * 96);
    const event = envelope('StockAdjusted', { delta, reason: selling ? 'sold' : 'received', note: null, quantityAfter: quantity + delta });
    attempts += 1;
    if (attempts % GAP_EVERY === 0) {
      // A writer whose transaction fails after its append: the position it drew stays unused.
      const client = await options.appendPool.connect();
      try {
        await client.query('begin');
        await client.query('select * from es_append($1, $2, $3::jsonb)', [item.stream, revision, JSON.stringify([event])]);
        await client.query('rollback');
        rolledBack += 1;
      } finally {
        client.release();
      }
      return true;
    }
    try {
      const result = await store.append(item.stream, [event], revision);
      quantities[position] = quantity + delta;
      revisions[position] = result.revision;
      counted();
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
      conflicts += 1;
    }
    return true;
  });

  return {
    events: appended,
    items: items.map(({ storeId, skuId }) => ({ storeId, skuId })),
    totalQuantity: quantities.reduce((sum, quantity) => sum + quantity, 0),
    conflicts,
    rolledBack,
  };
}
