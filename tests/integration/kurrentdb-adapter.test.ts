import { randomUUID } from 'node:crypto';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KurrentDbEventStore } from '../../src/shared/event-store/kurrentdb/index.js';
import type { RecordedEvent } from '../../src/shared/event-store/port.js';
import { event } from '../contract/event-store.contract.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type KurrentDbGrpcDouble, startKurrentDbGrpcDouble } from '../support/kurrentdb-grpc-double.js';

// What the KurrentDB adapter adds to the contract: its index of event ids, and its
// subscription's life across a dropped connection. Against the test double of the server.
const test = suite<{ double: KurrentDbGrpcDouble; db: TestDatabase; client: KurrentDBClient; store: KurrentDbEventStore }>('KurrentDB adapter');

test.before.each(async (context) => {
  context.double = await startKurrentDbGrpcDouble();
  context.db = await createTestDatabase('kurrent_adapter');
  context.client = KurrentDBClient.connectionString(context.double.url);
  context.store = new KurrentDbEventStore(context.client, context.db.pool);
});
test.after.each(async ({ client, double, db }) => {
  await client.dispose();
  await double.stop();
  await db.drop();
});

const waitFor = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
};

test('readEvent finds an event by id in any stream, and null for an unknown id', async ({ store }) => {
  const first = event('A');
  const second = event('B');
  await store.append(`thing-${randomUUID()}`, [event('X')], 'no_stream');
  const streamId = `thing-${randomUUID()}`;
  await store.append(streamId, [first, second], 'no_stream');
  const found = await store.readEvent(second.id);
  assert.is(found?.streamId, streamId);
  assert.is(found?.revision, 1);
  assert.is(found?.type, 'B');
  assert.is(await store.readEvent(randomUUID()), null);
  assert.is(await store.readEvent('not-a-uuid'), null);
});

test('an id reserved by an append whose answer was lost is settled by the lookup', async ({ store, db }) => {
  const streamId = `thing-${randomUUID()}`;
  const sent = event('Lost');
  await store.append(streamId, [sent], 'no_stream');
  // As if the process had stopped between the server's answer and the index's update.
  await db.pool.query(sql.unsafe`update kurrentdb_event_ids set revision = null where event_id = ${sent.id}::uuid`);
  const found = await store.readEvent(sent.id);
  assert.is(found?.id, sent.id);
  const revision = await db.pool.oneFirst(sql.unsafe`select revision from kurrentdb_event_ids where event_id = ${sent.id}::uuid`);
  assert.is(Number(revision), 0);
});

test('a conflicting append releases its reservations: the ids can be used again', async ({ store }) => {
  const streamId = `thing-${randomUUID()}`;
  await store.append(streamId, [event()], 'no_stream');
  const retried = event('Retried');
  await store.append(streamId, [retried], 'no_stream').catch(() => {});
  assert.is(await store.readEvent(retried.id), null);
  const result = await store.append(streamId, [retried], 0);
  assert.ok(result.written);
  assert.is((await store.readEvent(retried.id))?.revision, 1);
});

test('a dropped connection: the subscription opens again from the last position handled', async ({ store, double }) => {
  const seen: RecordedEvent[] = [];
  const errors: unknown[] = [];
  const subscription = store.subscribe({
    after: 0n,
    idleMs: 5,
    onError: (error) => errors.push(error),
    async onEvents(events) {
      seen.push(...events);
    },
  });
  const streamId = `thing-${randomUUID()}`;
  await store.append(streamId, [event('Before')], 'no_stream');
  await waitFor(() => seen.length >= 1);
  assert.is(double.dropSubscriptions(), 1);
  await store.append(streamId, [event('After1'), event('After2')], 0);
  await waitFor(() => seen.length >= 3);
  await subscription.stop();
  assert.equal(seen.map((e) => e.type), ['Before', 'After1', 'After2']);
  assert.ok(double.calls.subscribe >= 2, 'subscribed again');
  assert.ok(errors.length >= 1, 'the drop was reported');
  assert.is(subscription.checkpoint, seen.at(-1)!.position);
});

test('positions are the server\'s: not dense, and they survive a round trip through JSON text', async ({ store }) => {
  const streamId = `thing-${randomUUID()}`;
  await store.append(streamId, [event('A'), event('B')], 'no_stream');
  const [a, b] = await store.readStream(streamId);
  assert.ok(b!.position - a!.position > 1n, 'a gap between neighbours');
  assert.is(BigInt(JSON.parse(JSON.stringify({ p: b!.position.toString() })).p), b!.position);
  assert.equal((await store.readAll({ after: a!.position })).map((e) => e.id), [b!.id]);
});

test.run();
