import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { verify } from '../../../src/ops/verify/run.js';
import { replayReadModel } from '../../../src/projections/postgres/replay.js';
import { CURRENT_SCHEMA_VERSION, parseEvent } from '../../../src/shared/events/index.js';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertProblem, assertWritten, sleep } from '../../support/http-assertions.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

interface Context {
  harness: Harness;
  manager: Client;
  storeId: string;
  skuId: string;
  itemUrl: string;
}

const test = suite<Context>('audit: StockAdjusted gains a reference (schema version 2)');

test.before(async (context) => {
  context.harness = await startHarness('schema-evolution', {}, { projections: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const { storeId } = await seedStore(context.harness, context.manager, 10);
  const sku = await context.manager.post('/api/skus', { code: `OLD-${randomUUID().slice(0, 8)}`, name: 'Stocked by release 1' });
  const skuId = sku.json<{ id: string }>().id;
  Object.assign(context, { storeId, skuId, itemUrl: `/api/inventory/stores/${storeId}/items/${skuId}` });
  // An item as release 1 wrote it: schema version 1, no reference, no hashes (before the chain).
  const stream = `stockitem-${storeId}_${skuId}`;
  const pool = context.harness.db.pool;
  const metadata = JSON.stringify({ actor: null, correlationId: 'release-1', causationId: null, at: new Date().toISOString(), schemaVersion: 1 });
  await pool.query(sql.unsafe`insert into es_streams (stream_id, revision) values (${stream}, 1)`);
  await pool.query(sql.unsafe`
    insert into es_events (stream_id, revision, event_id, type, data, metadata) values
      (${stream}, 0, ${randomUUID()}, 'StockItemAdded', ${JSON.stringify({ storeId, skuId, quantity: 10, lowStockThreshold: 3 })}::jsonb, ${metadata}::jsonb),
      (${stream}, 1, ${randomUUID()}, 'StockAdjusted', ${JSON.stringify({ delta: -4, reason: 'sold', note: 'old till', quantityAfter: 6 })}::jsonb, ${metadata}::jsonb)`);
});
test.after(async ({ harness }) => harness.close());

test('the upcaster: version 1 reads with reference null; version 2 keeps it', () => {
  assert.is(CURRENT_SCHEMA_VERSION, 2);
  const old = parseEvent('StockAdjusted', { delta: 1, reason: 'received', note: null, quantityAfter: 3 }, 1);
  assert.equal(old.data, { delta: 1, reason: 'received', note: null, reference: null, quantityAfter: 3 });
  const current = parseEvent('StockAdjusted', { delta: 1, reason: 'received', note: null, reference: 'DN-7', quantityAfter: 3 }, 2);
  assert.equal(current.data, { delta: 1, reason: 'received', note: null, reference: 'DN-7', quantityAfter: 3 });
});

test('PATCH takes a reference; the decider folds the old-shape event; history shows both in the new shape', async ({ manager, itemUrl, harness }) => {
  const written = assertWritten(await manager.patch(itemUrl, { delta: 12, reason: 'received', reference: 'PO-2026-0042' }));
  assert.is(written.revision, 2);
  assert.is((await manager.patch(itemUrl, { delta: -1, reason: 'sold' })).statusCode, 200);
  const history = (await manager.get(`${itemUrl}/history`)).json<{ items: { data: Record<string, unknown> }[] }>().items;
  assert.equal(history[1]!.data, { delta: -4, reason: 'sold', note: 'old till', reference: null, quantityAfter: 6 });
  assert.equal(history[2]!.data, { delta: 12, reason: 'received', note: null, reference: 'PO-2026-0042', quantityAfter: 18 });
  assert.equal(history[3]!.data.reference, null);
  const stored = await harness.eventStore.readStream(`stockitem-${itemUrl.split('/')[4]}_${itemUrl.split('/')[6]}`);
  assert.equal(stored.map((event) => event.metadata.schemaVersion), [1, 1, 2, 2], 'new events are written at version 2');
  assert.equal(stored.map((event) => event.metadata.hash !== undefined), [false, false, true, true], 'and chained to the old ones');
});

test('a reference goes with an adjustment only, and names its field when wrong', async ({ manager, itemUrl }) => {
  assertProblem(await manager.patch(itemUrl, { countedQuantity: 3, reference: 'COUNT-1' }), 400, { type: 'validation', fields: ['reference'] });
  assertProblem(await manager.patch(itemUrl, { delta: 1, reason: 'received', reference: 'x'.repeat(201) }), 400, { type: 'validation', fields: ['reference'] });
});

test('old-shape history replays and verifies', async ({ harness, storeId, skuId }) => {
  const head = await harness.eventStore.headPosition();
  const replayed = await replayReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, schema: 'evolution_replay', until: head });
  assert.is(replayed.until, head);
  const quantity = await harness.db.pool.oneFirst(sql.unsafe`select quantity from evolution_replay.stock where store_id = ${storeId} and sku_id = ${skuId}`);
  assert.is(quantity, 17n);
  for (let waited = 0; ; waited += 25) {
    const reached = await harness.db.pool.oneFirst(sql.unsafe`select coalesce(min(through), 0)::bigint from read_model.progress`);
    if (typeof reached === 'bigint' && reached >= head) break;
    if (waited > 15_000) throw new Error('projector behind');
    await sleep(25);
  }
  const report = await verify({ pool: harness.db.pool, store: harness.eventStore, redis: null });
  assert.equal(report.differences, []);
});

test.run();
