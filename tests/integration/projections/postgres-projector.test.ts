import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import { newId } from '../../../src/shared/ids.js';
import { skus, stockItems, stores } from '../../../src/write/aggregates.js';
import type { CommandContext } from '../../../src/write/command-handler.js';
import { skuStream, stockItemStream, storeStream } from '../../../src/write/streams.js';
import { type Pipeline, startPipeline } from '../../support/pipeline.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

const test = suite<{ pipeline: Pipeline }>('projections: PostgreSQL read model through a real Kafka');

const context = (): CommandContext => ({ actor: null, correlationId: newId(), now: new Date() });

async function openStoreWithItem(pipeline: Pipeline, quantity: number) {
  const storeId = newId();
  const skuId = newId();
  await pipeline.commands.handle(stores, storeStream(storeId), { type: 'OpenStore', storeId, name: 'Quay', code: null, address: null }, context());
  await pipeline.commands.handle(
    skus,
    skuStream(skuId),
    { type: 'CreateSku', skuId, code: `C-${skuId.slice(-6)}`, name: 'Rope', category: 'marine', unit: 'm', price: '2.50', lowStockThreshold: 4 },
    context(),
  );
  const added = await pipeline.commands.handle(
    stockItems,
    stockItemStream(storeId, skuId),
    { type: 'AddStockItem', storeId, skuId, quantity, lowStockThreshold: 4, storeStatus: 'open', skuExists: true },
    context(),
  );
  return { storeId, skuId, position: added.position };
}

const adjust = (pipeline: Pipeline, storeId: string, skuId: string, delta: number) =>
  pipeline.commands.handle(
    stockItems,
    stockItemStream(storeId, skuId),
    { type: 'AdjustStock', storeId, skuId, delta, reason: delta > 0 ? 'received' : 'sold', note: null },
    context(),
  );

const snapshot = async (pipeline: Pipeline, schema = 'read_model') => {
  const tables = ['users', 'stores', 'skus', 'stock', 'stock_summary', 'store_assignments'];
  const result: Record<string, unknown> = {};
  for (const table of tables) {
    const order = table === 'stock' ? 'store_id, sku_id' : table === 'store_assignments' ? 'user_id, store_id' : table === 'stock_summary' ? 'sku_id' : 'id';
    // updated_at of the summary depends on which batch recomputed it last; compare content.
    result[table] = await pipeline.db.pool.any(
      sql.unsafe`select * from ${sql.identifier([schema, table])} order by ${sql.join(order.split(', ').map((c) => sql.identifier([c])), sql.fragment`, `)}`,
    );
  }
  return JSON.parse(JSON.stringify(result, (_, value) => (typeof value === 'bigint' ? value.toString() : value)));
};

test.before(async (context) => {
  context.pipeline = await startPipeline('pgproj');
});
test.after(async ({ pipeline }) => pipeline.close());

test('a command followed by a wait for its position sees the change', async ({ pipeline }) => {
  const { storeId, skuId } = await openStoreWithItem(pipeline, 10);
  const sold = await adjust(pipeline, storeId, skuId, -7);
  await pipeline.reach(sold.position);
  const row = await pipeline.db.pool.one(sql.unsafe`select quantity, revision from read_model.stock where store_id = ${storeId} and sku_id = ${skuId}`);
  assert.equal(row, { quantity: 3n, revision: 1n });
  const summary = await pipeline.db.pool.one(sql.unsafe`select total_quantity, low_stock_store_count from read_model.stock_summary where sku_id = ${skuId}`);
  assert.equal(summary, { total_quantity: 3n, low_stock_store_count: 1 });
  const sku = await pipeline.db.pool.one(sql.unsafe`select price::text as price, category from read_model.skus where id = ${skuId}`);
  assert.equal(sku, { price: '2.50', category: 'marine' });
});

test('the same events delivered twice change nothing', async ({ pipeline }) => {
  const { storeId, skuId } = await openStoreWithItem(pipeline, 5);
  const last = await adjust(pipeline, storeId, skuId, 2);
  await pipeline.reach(last.position);
  const before = await snapshot(pipeline);
  const events = await pipeline.store.readStream(stockItemStream(storeId, skuId));
  const projector = new PostgresProjector({ pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections });
  await projector.applyBatch({ events, partition: 0, through: 0n });
  await projector.applyBatch({ events: events.slice(0, 1), partition: 0, through: 0n });
  assert.equal(await snapshot(pipeline), before);
});

test('a gap is filled from the event store, never skipped', async ({ pipeline }) => {
  await pipeline.projector?.stop();
  pipeline.projector = null;
  try {
    const { storeId, skuId } = await openStoreWithItem(pipeline, 5);
    await adjust(pipeline, storeId, skuId, 1);
    await adjust(pipeline, storeId, skuId, 1);
    const events = await pipeline.store.readStream(stockItemStream(storeId, skuId));
    const projector = new PostgresProjector({ pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections });
    // Only the newest event arrives: revisions 0 and 1 must come from the store.
    await projector.applyBatch({ events: events.slice(-1), partition: 0, through: 0n });
    const row = await pipeline.db.pool.one(sql.unsafe`select quantity, revision from read_model.stock where store_id = ${storeId} and sku_id = ${skuId}`);
    assert.equal(row, { quantity: 7n, revision: 2n });
  } finally {
    await pipeline.startProjector();
  }
});

test('two projector instances share the partitions and agree with the event store', async ({ pipeline }) => {
  const { startPostgresProjector } = await import('../../../src/projections/postgres/run.js');
  const second = await startPostgresProjector({ bus: pipeline.bus, pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections, log: { error() {} }, group: pipeline.group });
  try {
    const items = await Promise.all(Array.from({ length: 6 }, () => openStoreWithItem(pipeline, 20)));
    let last = 0n;
    for (let round = 0; round < 4; round += 1) {
      for (const { storeId, skuId } of items) last = (await adjust(pipeline, storeId, skuId, -1)).position;
    }
    await pipeline.reach(last);
    for (const { storeId, skuId } of items) {
      const row = await pipeline.db.pool.one(sql.unsafe`select quantity, revision from read_model.stock where store_id = ${storeId} and sku_id = ${skuId}`);
      assert.equal(row, { quantity: 16n, revision: 4n });
    }
  } finally {
    await second.stop();
  }
});

test('a projector killed mid-batch and restarted ends with the state a clean rebuild produces', async ({ pipeline }) => {
  const items = await Promise.all(Array.from({ length: 5 }, () => openStoreWithItem(pipeline, 50)));
  await pipeline.projector?.stop();
  pipeline.projector = null;
  // Writes go on while no projector runs; then one dies in the middle of its transaction.
  let last = 0n;
  for (let round = 0; round < 6; round += 1) {
    for (const { storeId, skuId } of items) last = (await adjust(pipeline, storeId, skuId, round % 2 === 0 ? -3 : 2)).position;
  }
  const events = await pipeline.store.readAll({ after: 0n, maxCount: 10_000 });
  const dying = new PostgresProjector({ pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections });
  await pipeline.db.pool
    .transaction(async (tx) => {
      await dying.applyWithin(tx, { events, partition: 0, through: last });
      throw new Error('killed');
    })
    .catch(() => {});
  await pipeline.startProjector();
  await pipeline.reach(last);
  const live = await snapshot(pipeline);
  await rebuildReadModel({ databaseUrl: pipeline.db.url, pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections });
  const rebuilt = await snapshot(pipeline);
  for (const table of ['users', 'stores', 'skus', 'stock', 'store_assignments']) assert.equal(rebuilt[table], live[table], table);
  const totals = (rows: { sku_id: string; total_quantity: string; store_count: number }[]) =>
    rows.map(({ sku_id, total_quantity, store_count }) => ({ sku_id, total_quantity, store_count }));
  assert.equal(totals(rebuilt.stock_summary), totals(live.stock_summary));
});

test.run();
