import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { sql } from 'slonik';
import { suite } from 'uvu';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import * as assert from 'uvu/assert';
import { migrateEvents, moveCheckpoints } from '../../../src/ops/migrate-events.js';
import { forwarderCheckpoint } from '../../../src/projections/lag.js';
import { verify } from '../../../src/ops/verify/run.js';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import { KurrentDbEventStore } from '../../../src/shared/event-store/kurrentdb/index.js';
import type { EventStore, RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { ADMIN, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { createTestDatabase } from '../../support/database.js';
import { type KurrentDbGrpcDouble, startKurrentDbGrpcDouble } from '../../support/kurrentdb-grpc-double.js';

/**
 * `events:migrate`: a PostgreSQL event store written through the API is copied into
 * KurrentDB (the test double of its gRPC services), stopped half-way and resumed; the read
 * model rebuilt from KurrentDB passes verify; and the copy goes back into a fresh PostgreSQL.
 */
const test = suite<{ harness: Harness; double: KurrentDbGrpcDouble; client: KurrentDBClient }>('events:migrate');

test.before(async (context) => {
  context.harness = await startHarness('events_migrate');
  context.double = await startKurrentDbGrpcDouble();
  context.client = KurrentDBClient.connectionString(context.double.url);
  const manager = await login(context.harness, ADMIN.username, ADMIN.password);
  for (let i = 0; i < 3; i += 1) {
    const { itemUrl } = await seedStore(context.harness, manager, 20);
    for (const delta of [-3, 5, -1]) {
      const response = await manager.patch(itemUrl, { delta, reason: delta < 0 ? 'sold' : 'received' });
      assert.is(response.statusCode, 200, response.body);
    }
  }
});
test.after(async ({ harness, double, client }) => {
  await client.dispose();
  await double.stop();
  await harness.close();
});

const everything = async (store: EventStore) => {
  const events: RecordedEvent[] = [];
  for (let after = 0n; ; ) {
    const page = await store.readAll({ after, maxCount: 500 });
    if (page.length === 0) return events;
    events.push(...page);
    after = page.at(-1)!.position;
  }
};
/** What a copy keeps: everything but the position and the recorded time, which the target assigns. */
const kept = (events: RecordedEvent[]) => events.map(({ id, streamId, type, data, metadata, revision }) => ({ id, streamId, type, data, metadata, revision }));

test('PostgreSQL → KurrentDB, stopped half-way and resumed, then verify agrees; and back into a fresh PostgreSQL', async ({ harness, client }) => {
  const postgres = harness.eventStore;
  const kurrent = new KurrentDbEventStore(client, harness.db.pool);
  const original = await everything(postgres);
  assert.ok(original.length > 20, `enough events to page (${original.length})`);

  const seen: number[] = [];
  await migrateEvents({
    source: postgres,
    target: kurrent,
    pool: harness.db.pool,
    name: 'postgres->eventstoredb',
    pageSize: 7,
    progress: ({ events }) => {
      seen.push(events);
      if (events >= 14) throw new Error('stopped on purpose');
    },
  }).then(
    () => assert.unreachable('the first run should stop'),
    (error: Error) => assert.is(error.message, 'stopped on purpose'),
  );
  const result = await migrateEvents({ source: postgres, target: kurrent, pool: harness.db.pool, name: 'postgres->eventstoredb', pageSize: 7, progress: ({ events }) => seen.push(events) });
  assert.is(result.events, original.length);
  assert.equal(seen.slice(0, 3), [7, 14, 21], 'the second run resumed after the 14 copied');

  const copied = await everything(kurrent);
  assert.equal(kept(copied), kept(original), 'ids, order, data, metadata and revisions kept');
  assert.ok(copied.some((event, i) => event.position !== original[i]!.position), 'positions are the target\'s own');

  // Running it again copies nothing more.
  assert.is((await migrateEvents({ source: postgres, target: kurrent, pool: harness.db.pool, name: 'postgres->eventstoredb' })).events, original.length);
  assert.is((await everything(kurrent)).length, original.length);

  // A live read model that had applied the old store to its end, in the old positions.
  await ensureReadModelSchema(harness.db.url);
  await new PostgresProjector({ pool: harness.db.pool, store: postgres, projections: readModelProjections }).applyBatch({ events: original, partition: 0, through: original.at(-1)!.position });

  // The checkpoints of old positions move to the new head: nothing is forwarded or mailed twice.
  const head = await kurrent.headPosition();
  await moveCheckpoints(harness.db.pool, head);
  assert.is(await forwarderCheckpoint(harness.db.pool), copied.at(-1)!.position);

  // The read model rebuilt from KurrentDB: verify folds every stream there and finds no difference.
  await rebuildReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: kurrent, projections: readModelProjections });
  // Its progress is in the new store's positions: X-Min-Position of a new position neither
  // passes early (the old positions may be higher) nor waits for a write to come.
  const progress = await harness.db.pool.anyFirst(sql.unsafe`select through from read_model.progress`);
  assert.ok(progress.length > 0);
  for (const through of progress) assert.is(through, head, 'each partition through the new head');
  const report = await verify({ pool: harness.db.pool, store: kurrent, redis: null });
  assert.equal(report.differences, []);
  assert.is(report.events, original.length);

  // And back, into an empty PostgreSQL store.
  const fresh = await createTestDatabase('events_migrate_back');
  try {
    const back = new PostgresEventStore(fresh.pool);
    await migrateEvents({ source: kurrent, target: back, pool: fresh.pool, name: 'eventstoredb->postgres', pageSize: 50 });
    assert.equal(kept(await everything(back)), kept(original));
    // A copy into a store that already holds events is refused, unless it is the same copy resumed.
    await migrateEvents({ source: kurrent, target: back, pool: fresh.pool, name: 'another copy' }).then(
      () => assert.unreachable('a copy into a non-empty store must be refused'),
      (error: Error) => assert.match(error.message, /not empty/),
    );
  } finally {
    await fresh.drop();
  }
});

test.run();
