import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { CrossingRecorder } from '../../../src/projections/mailer/record.js';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';
import { addItem, adjust, createStoreAndSku, createUserWithEmail, mailCounts } from './support.js';
import { clusterStatus } from '../../../src/projections/status.js';
import { runStuckCommand } from '../../../src/projections/stuck-command.js';
import { readinessChecks } from '../../../src/ops/readiness.js';
import { stockItemStream } from '../../../src/shared/streams.js';
import { event } from '../../contract/event-store.contract.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

/**
 * The recorder alone, fed batches by hand (no bus): repeats, gaps, the history bound, and
 * the recipients it resolves from the read model.
 */
const test = suite<{ harness: Harness }>('mail: recording crossings');

test.before(async (context) => {
  context.harness = await startHarness('mail_record');
  await ensureReadModelSchema(context.harness.db.url);
});
test.after(async ({ harness }) => harness.close());

const DAY = 24 * 3600_000;
const crossingRow = z.object({ revision: z.bigint(), quantity: z.bigint(), historical: z.boolean() });

/** Brings the read model up to date by hand, so that recipients can be resolved. */
async function project(harness: Harness): Promise<void> {
  const events = await harness.eventStore.readAll({ after: 0n });
  await new PostgresProjector({ pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections }).applyBatch({ events, partition: 0, through: events.at(-1)!.position });
}

test('a batch that starts past the stored revision is completed from the event store; a crossing older than the bound is recorded, not mailed', async ({ harness }) => {
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId } = await createStoreAndSku(manager, 'History Row');
  await createUserWithEmail(harness, manager, 'manager');
  await addItem(manager, storeId, skuId, 10); // revision 0
  await adjust(manager, storeId, skuId, -1); // 1: 9
  await adjust(manager, storeId, skuId, -7); // 2: 2, a crossing
  await project(harness);
  const events = await harness.eventStore.readStream(`stockitem-${storeId}_${skuId}`);
  // Two days on: the crossing is history by then.
  const later = new CrossingRecorder(harness.db.pool, harness.eventStore, { now: () => new Date(Date.now() + 2 * DAY) });
  assert.is(await later.applyBatch({ events: events.slice(2), partition: 0, through: events[2]!.position }), 0);
  const rows = (await harness.db.pool.any(sql.unsafe`select revision, quantity, historical from mail_crossings`)).map((raw) => crossingRow.parse(raw));
  assert.equal(rows, [{ revision: 2n, quantity: 2n, historical: true }]);
  assert.equal(await mailCounts({ harness }), { crossings: 1, outbox: 0, mails: 0 });

  // Delivered again, whole or in part: nothing changes.
  const now = new CrossingRecorder(harness.db.pool, harness.eventStore);
  assert.is(await now.applyBatch({ events, partition: 0, through: events[2]!.position }), 0);
  assert.equal(await mailCounts({ harness }), { crossings: 1, outbox: 0, mails: 0 });
});

test('a fresh crossing owes one outbox row per recipient, and only once', async ({ harness }) => {
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId } = await createStoreAndSku(manager, 'Fresh Row');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await adjust(manager, storeId, skuId, -9);
  await project(harness);
  const before = await mailCounts({ harness });
  const events = await harness.eventStore.readStream(`stockitem-${storeId}_${skuId}`);
  const recorder = new CrossingRecorder(harness.db.pool, harness.eventStore);
  const batch = { events, partition: 0, through: events.at(-1)!.position };
  // The two managers with an email (one made in the test above) and the staff member.
  assert.is(await recorder.applyBatch(batch), 2);
  assert.is(await recorder.applyBatch(batch), 0);
  const after = await mailCounts({ harness });
  assert.equal(after, { crossings: before.crossings + 1, outbox: before.outbox + 2, mails: 0 });
  const recipients = z
    .array(z.string())
    .parse(await harness.db.pool.anyFirst(sql.unsafe`select recipient_email from mail_outbox where store_id = ${storeId} order by 1`));
  assert.ok(recipients.includes(staff.email!));
});

test('an unreadable event stops only its stream: the rest of the batch is recorded, the stream is shown stuck, and a retry after a fix records it', async ({ harness }) => {
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId } = await createStoreAndSku(manager, 'Poison Row');
  const poisonSku = (await manager.post('/api/skus', { code: `POISON-${randomUUID().slice(0, 8)}`, name: 'Poisoned', lowStockThreshold: 3 })).json<{ id: string }>();
  await addItem(manager, storeId, skuId, 10);
  await adjust(manager, storeId, skuId, -9); // a crossing of the healthy stream
  const poisonStream = stockItemStream(storeId, poisonSku.id);
  // Written around the deciders (as a buggy release or a hand edit might): unreadable data.
  await harness.eventStore.append(poisonStream, [event('StockItemAdded', { storeId, skuId: poisonSku.id, quantity: 'lots', lowStockThreshold: 3 })], 'no_stream');
  const healthy = await harness.eventStore.readStream(stockItemStream(storeId, skuId));
  const poisoned = await harness.eventStore.readStream(poisonStream);
  await project(harness);
  const before = await mailCounts({ harness });

  const stuck: string[] = [];
  const recorder = new CrossingRecorder(harness.db.pool, harness.eventStore, { onStuck: (failure) => stuck.push(failure.event.id) });
  const events = [...healthy, ...poisoned].sort((a, b) => (a.position < b.position ? -1 : 1));
  const owed = await recorder.applyBatch({ events, partition: 0, through: events.at(-1)!.position });
  assert.ok(owed > 0, 'the healthy stream in the same batch is recorded and owes its mails');
  assert.equal(stuck, [poisoned[0]!.id], 'the poison is said');
  const after = await mailCounts({ harness });
  assert.is(after.crossings, before.crossings + 1);

  // Shown where operators look: the cluster status (report and /metrics), readiness of the mailer role, the command.
  const status = await clusterStatus(harness.db.pool, { forwarder: null });
  assert.equal(status.mailerStuckStreams.map((s) => [s.streamId, s.eventId]), [[poisonStream, poisoned[0]!.id]]);
  const checks = await readinessChecks({ pool: harness.db.pool, forwarder: null, roles: ['mailer'] });
  const check = checks.find((c) => c.name === 'mailer-stuck-streams');
  assert.ok(check?.reason?.includes(poisoned[0]!.id), JSON.stringify(checks));
  const lines: string[] = [];
  const deps = { pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, out: (line: string) => void lines.push(line) };
  assert.is(await runStuckCommand(['list'], deps), 1);
  assert.match(lines.join('\n'), new RegExp(`mailer\t${poisonStream}\tevent ${poisoned[0]!.id}`));

  // Its later events wait, however often they come; the others go on.
  await harness.db.pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{quantity}', '5') where event_id = ${poisoned[0]!.id}`);
  await adjust(manager, storeId, poisonSku.id, -4); // 5 → 1: a crossing once the stream is readable
  const next = await harness.eventStore.readStream(poisonStream, { fromRevision: 1 });
  assert.is(await recorder.applyBatch({ events: next, partition: 0, through: next.at(-1)!.position }), 0, 'nothing recorded past the stuck event');
  assert.is((await mailCounts({ harness })).crossings, after.crossings);

  // After the fix, the operator's retry records the stream from the store, crossing included.
  assert.is(await runStuckCommand(['retry', poisonStream], deps), 0, lines.join('\n'));
  assert.match(lines.join('\n'), /mailer: .* no longer stuck/);
  assert.is((await mailCounts({ harness })).crossings, after.crossings + 1, 'the crossing that waited is recorded');
  assert.equal((await clusterStatus(harness.db.pool, { forwarder: null })).mailerStuckStreams, []);
});

test.run();
