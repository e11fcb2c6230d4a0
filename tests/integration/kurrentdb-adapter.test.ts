import { randomUUID } from 'node:crypto';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KurrentDbEventStore } from '../../src/shared/event-store/kurrentdb/index.js';
import { type RecordedEvent, WrongExpectedRevision } from '../../src/shared/event-store/port.js';
import { ConfigError } from '../../src/shared/config.js';
import { fromWire, toWire } from '../../src/shared/event-bus/message.js';
import { connectKurrentDb } from '../../src/shared/event-store/kurrentdb/connect.js';
import { event } from '../contract/event-store.contract.js';
import { startKurrentDbGrpcDouble } from '../support/kurrentdb-grpc-double.js';
import { type KurrentDbOnDouble, startKurrentDbOnDouble, stopKurrentDbOnDouble } from '../support/kurrentdb-on-double.js';

// What the KurrentDB adapter adds to the contract: its index of event ids, and its
// subscription's life across a dropped connection. Against the test double of the server.
const test = suite<KurrentDbOnDouble>('KurrentDB adapter');

test.before.each(async (context) => void Object.assign(context, await startKurrentDbOnDouble('kurrent_adapter')));
test.after.each(stopKurrentDbOnDouble);

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

test('positions are the server\'s: not dense, beyond 2^53, and unchanged through the bus\'s JSON', async ({ db }) => {
  const double = await startKurrentDbGrpcDouble({ firstPosition: 2n ** 60n + 7n });
  const client = KurrentDBClient.connectionString(double.url);
  try {
    const store = new KurrentDbEventStore(client, db.pool);
    const streamId = `thing-${randomUUID()}`;
    const appended = await store.append(streamId, [event('A'), event('B')], 'no_stream');
    const [a, b] = await store.readStream(streamId);
    assert.ok(a!.position > 2n ** 53n);
    assert.is(appended.position, b!.position);
    assert.ok(b!.position - a!.position > 1n, 'a gap between neighbours');
    assert.equal(fromWire(toWire(b!)), b);
    assert.is(await store.headPosition(), b!.position);
    assert.equal((await store.readAll({ after: a!.position })).map((e) => e.id), [b!.id]);
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribe({ after: a!.position, idleMs: 5, onEvents: async (events) => void seen.push(...events) });
    await waitFor(() => seen.length >= 1);
    await subscription.stop();
    assert.equal(seen.map((e) => e.id), [b!.id]);
    assert.is(subscription.checkpoint, b!.position);
  } finally {
    await client.dispose();
    await double.stop();
  }
});

test('a server that announces BatchAppend gets the appends there; conflicts still carry the actual revision', async ({ db }) => {
  const double = await startKurrentDbGrpcDouble({ batchAppend: true });
  const client = KurrentDBClient.connectionString(double.url);
  try {
    const store = new KurrentDbEventStore(client, db.pool);
    const streamId = `thing-${randomUUID()}`;
    await store.append(streamId, [event('A'), event('B')], 'no_stream');
    const conflict = await store.append(streamId, [event()], 'no_stream').catch((error: unknown) => error);
    assert.instance(conflict, WrongExpectedRevision);
    assert.is((conflict as WrongExpectedRevision).actual, 1);
    const missing = await store.append(`thing-${randomUUID()}`, [event()], 3).catch((error: unknown) => error);
    assert.is((missing as WrongExpectedRevision).actual, -1);
    assert.is(double.calls.append, 0);
    assert.is(double.calls.batchAppend, 3);
  } finally {
    await client.dispose();
    await double.stop();
  }
});

test('a connection string the client refuses stops at once, naming EVENTSTOREDB_URL: no wait', async () => {
  const refused = await connectKurrentDb('kurrentdb://127.0.0.1:2113?tls=maybe', { onWait: () => assert.unreachable('no wait') }).catch((error: unknown) => error);
  assert.instance(refused, ConfigError);
  assert.match((refused as ConfigError).message, /EVENTSTOREDB_URL: the KurrentDB client refuses it/);
});

test.run();
