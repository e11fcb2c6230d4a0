import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import { listStuckStreams } from '../../../src/shared/read-model/stuck-streams.js';
import { event } from '../../contract/event-store.contract.js';
import { type Harness, startHarness } from '../../support/app.js';

/**
 * A rebuild keeps its stuck streams in memory rather than reading them back each batch (its
 * schema is its own): a stream it marks stuck stays stuck, marked once, while its later
 * events come in later batches, and every other stream goes on.
 */
const test = suite<{ harness: Harness }>('projections: a rebuild stops a stream at an event it cannot read');

test.before(async (context) => {
  context.harness = await startHarness('rebuild-stuck');
});
test.after(async ({ harness }) => harness.close());

test('the stream keeps its row before the event, is marked stuck once, and the others go on', async ({ harness }) => {
  const store = harness.eventStore;
  const [storeId, skuId, otherSku] = [randomUUID(), randomUUID(), randomUUID()];
  const stuckStream = `stockitem-${storeId}_${skuId}`;
  const goodStream = `stockitem-${storeId}_${otherSku}`;
  await store.append(stuckStream, [event('StockItemAdded', { storeId, skuId, quantity: 5, lowStockThreshold: 1 })], 'no_stream');
  await store.append(goodStream, [event('StockItemAdded', { storeId, skuId: otherSku, quantity: 2, lowStockThreshold: 0 })], 'no_stream');
  // Written around the deciders (as a buggy release might): an adjustment that moves nothing.
  const poison = await store.append(stuckStream, [event('StockAdjusted', { delta: 0, reason: 'sold', note: null, quantityAfter: 5 })], 0);
  for (let n = 1; n <= 3; n += 1) {
    await store.append(stuckStream, [event('StockAdjusted', { delta: -1, reason: 'sold', note: null, quantityAfter: 5 - n })], n);
    await store.append(goodStream, [event('StockAdjusted', { delta: 1, reason: 'received', note: null, quantityAfter: 2 + n })], n - 1);
  }

  // One event per transaction: the stream's later events each come in a batch of their own.
  await rebuildReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store, projections: readModelProjections, batchSize: 2, eventsPerApply: 1 });

  const stuck = await listStuckStreams(harness.db.pool);
  assert.equal(stuck.map((s) => [s.streamId, s.position, s.attempts]), [[stuckStream, poison.position.toString(), 1]]);
  const quantities = z.array(z.object({ sku_id: z.string(), quantity: z.bigint(), revision: z.bigint() })).parse(
    await harness.db.pool.any(sql.unsafe`select sku_id::text, quantity, revision from read_model.stock where store_id = ${storeId} order by revision desc`),
  );
  assert.equal(
    quantities.map((row) => [row.sku_id, Number(row.quantity), Number(row.revision)]),
    [
      [otherSku, 5, 3],
      [skuId, 5, 0],
    ],
  );
  const ledger = await harness.db.pool.oneFirst(sql.unsafe`select count(*)::int from read_model.stock_ledger where sku_id = ${skuId}`);
  assert.is(ledger, 1, 'the ledger stops where the stream does');
});

test.run();
