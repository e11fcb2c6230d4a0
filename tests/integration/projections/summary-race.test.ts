import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { newId } from '../../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

/**
 * Two projector replicas apply two stores' items of one SKU at the same moment (they sit
 * in different partitions). The overall summary must count both.
 */
const test = suite<{ db: TestDatabase }>('projections: the stock summary under two replicas');

test.before(async (context) => {
  context.db = await createTestDatabase('summary');
  await ensureReadModelSchema(context.db.url);
});
test.after(async ({ db }) => db.drop());

test('concurrent batches for one SKU in two stores both reach the summary', async ({ db }) => {
  const store = new PostgresEventStore(db.pool);
  const a = new PostgresProjector({ pool: db.pool, store, projections: readModelProjections });
  const b = new PostgresProjector({ pool: db.pool, store, projections: readModelProjections });
  const metadata = { actor: null, correlationId: newId(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 };
  const added = (storeId: string, skuId: string, position: bigint): RecordedEvent => ({
    id: newId(),
    streamId: `stockitem-${storeId}_${skuId}`,
    type: 'StockItemAdded',
    data: { storeId, skuId, quantity: 10, lowStockThreshold: 0 },
    metadata,
    revision: 0,
    position,
    recordedAt: new Date(),
  });
  const skus: string[] = [];
  for (let i = 0; i < 60; i += 1) {
    const skuId = newId();
    skus.push(skuId);
    const position = BigInt(i * 2 + 1);
    await Promise.all([
      a.applyBatch({ events: [added(newId(), skuId, position)], partition: 0, through: position }),
      b.applyBatch({ events: [added(newId(), skuId, position + 1n)], partition: 1, through: position + 1n }),
    ]);
  }
  const wrong = await db.pool.anyFirst(sql.unsafe`
    select sku_id from read_model.stock_summary where sku_id = any(${sql.array(skus, 'uuid')}) and (total_quantity <> 20 or store_count <> 2)`);
  assert.equal(wrong, []);
  assert.is(Number(await db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stock_summary`)), 60);
});

test.run();
