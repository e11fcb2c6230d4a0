import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { EVENTS_PER_TRANSACTION, PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import type { EventToAppend } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { skuStream, stockItemStream, storeStream } from '../../../src/shared/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A batch far larger than one transaction should hold: thousands of items of one store, each
 * of another SKU, take up to three advisory locks each, and PostgreSQL's lock table (about
 * 6,400 by default, for the whole server) ran out on such a batch, for good: the same batch
 * failed again at every redelivery. It is applied in transactions of a bounded size.
 */
const test = suite<{ db: TestDatabase }>('projections: a batch of thousands of streams');

test.before(async (context) => {
  context.db = await createTestDatabase('large_batch');
  await ensureReadModelSchema(context.db.url);
});
test.after(async ({ db }) => db.drop());

const ITEMS = 4_000;
const event = (type: string, data: unknown): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 },
});

test(`${ITEMS} items of one store, each of another SKU, in one batch: applied, with the partition through the batch`, async ({ db }) => {
  const store = new PostgresEventStore(db.pool);
  const storeId = randomUUID();
  await store.append(storeStream(storeId), [event('StoreOpened', { storeId, name: 'Warehouse', code: null, address: null })], 'no_stream');
  const skuIds = Array.from({ length: ITEMS }, () => randomUUID());
  // Eight writers at a time: the appends are the slow part of the test, not what it checks.
  for (let start = 0; start < ITEMS; start += 8) {
    await Promise.all(
      skuIds.slice(start, start + 8).map(async (skuId, index) => {
        await store.append(skuStream(skuId), [event('SkuCreated', { skuId, code: `LB-${start + index}`, name: `Item ${start + index}`, category: null, unit: 'pc', price: '1.00', lowStockThreshold: 2 })], 'no_stream');
        await store.append(stockItemStream(storeId, skuId), [event('StockItemAdded', { storeId, skuId, quantity: 5, lowStockThreshold: 2 })], 'no_stream');
      }),
    );
  }
  const events = await store.readAll({ after: 0n, maxCount: 3 * ITEMS });
  assert.ok(events.length > 5 * EVENTS_PER_TRANSACTION, `${events.length} events: more than a few transactions' worth`);
  const through = events.at(-1)!.position + 5n; // a watermark past the last event, as the bus sends
  await new PostgresProjector({ pool: db.pool, store, projections: readModelProjections }).applyBatch({ events, partition: 0, through });

  const items = z.bigint().parse(await db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stock where store_id = ${storeId}`));
  assert.is(items, BigInt(ITEMS));
  const progress = z.bigint().parse(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`));
  assert.is(progress, through);
});

test.run();
