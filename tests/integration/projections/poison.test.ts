import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { lagOf, postgresReadModelCheckpoint } from '../../../src/projections/lag.js';
import { startPostgresProjector } from '../../../src/projections/postgres/run.js';
import { listStuckStreams } from '../../../src/shared/read-model/stuck-streams.js';
import { event } from '../../contract/event-store.contract.js';
import { type Pipeline, startPipeline } from '../../support/pipeline.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

const test = suite<{ pipeline: Pipeline }>('projections: a poison event stops its stream, loudly');

test.before(async (context) => {
  context.pipeline = await startPipeline('poison', { projector: false });
});
test.after(async ({ pipeline }) => pipeline.close());

test('the projector marks the stream stuck, logs the event id and position, and goes on with the rest', async ({ pipeline }) => {
  const logged: { fields: Record<string, unknown>; message: string | undefined }[] = [];
  const log = { error: (fields: object, message?: string) => void logged.push({ fields: fields as Record<string, unknown>, message }) };
  pipeline.projector = await startPostgresProjector({ bus: pipeline.bus, pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections, log, group: pipeline.group });

  const good = await pipeline.store.append(`stockitem-${randomUUID()}_${randomUUID()}`, [event('StockItemAdded', { storeId: randomUUID(), skuId: randomUUID(), quantity: 1, lowStockThreshold: 0 })], 'no_stream');
  await pipeline.reach(good.position);
  // Written around the deciders (as a buggy release or a hand edit might): unreadable data.
  const poisonStream = `stockitem-${randomUUID()}_${randomUUID()}`;
  const poison = await pipeline.store.append(poisonStream, [event('StockItemAdded', { quantity: 'lots' })], 'no_stream');
  const after = await pipeline.store.append(`store-${randomUUID()}`, [event('StoreOpened', { storeId: randomUUID(), name: 'After', code: null, address: null })], 'no_stream');

  const deadline = Date.now() + 15_000;
  while (!logged.some((entry) => entry.fields.eventId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const entry = logged.find((e) => e.fields.eventId);
  assert.ok(entry, 'the failure was logged');
  assert.is(entry!.fields.position, poison.position.toString());
  assert.is(entry!.fields.streamId, poisonStream);
  assert.match(entry!.message ?? '', /stuck/);

  await pipeline.reach(after.position);
  const checkpoint = await postgresReadModelCheckpoint(pipeline.db.pool);
  assert.ok(checkpoint !== null && checkpoint >= after.position, `the rest moves past the poison (at ${checkpoint})`);
  const stuck = await listStuckStreams(pipeline.db.pool);
  assert.equal(stuck.map((s) => [s.streamId, s.position]), [[poisonStream, poison.position.toString()]]);
  const lag = await lagOf(pipeline.db.pool, checkpoint);
  assert.is(lag.events, 0);
});

test.run();
