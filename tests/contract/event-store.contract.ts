import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  WrongExpectedRevision,
} from '../../src/shared/event-store/port.js';

/**
 * The contract every adapter of the event store port must pass. An adapter's test
 * file calls `eventStoreContract` with a factory for a fresh, empty store.
 */
export interface ContractFixture {
  store: EventStore;
  /**
   * Starts an append and holds its transaction open, so that a later append can commit
   * first. Adapters whose positions are assigned at commit (EventStoreDB) leave it out.
   */
  beginHeldAppend?(streamId: string, events: EventToAppend[]): Promise<{ commit(): Promise<void>; rollback(): Promise<void> }>;
  close(): Promise<void>;
}

export const event = (type = 'ThingHappened', data: unknown = { n: 1 }): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { actor: 'tester', correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
});

const stream = () => `thing-${randomUUID()}`;

async function collect(store: EventStore, count: number, after = 0n, timeoutMs = 5_000, filter?: (e: RecordedEvent) => boolean) {
  const seen: RecordedEvent[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const subscription = store.subscribe({
    after,
    idleMs: 5,
    async onEvents(events) {
      seen.push(...events.filter((e) => filter?.(e) ?? true));
      if (seen.length >= count) resolveDone();
    },
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  await done;
  clearTimeout(timer);
  await subscription.stop();
  return { seen, checkpoint: subscription.checkpoint };
}

export function eventStoreContract(adapter: string, open: () => Promise<ContractFixture>): void {
  const test = suite<{ fixture: ContractFixture; store: EventStore }>(`event store contract: ${adapter}`);

  test.before.each(async (context) => {
    context.fixture = await open();
    context.store = context.fixture.store;
  });
  test.after.each(async ({ fixture }) => fixture.close());

  test('append to a new stream with no_stream, then read it forwards and backwards', async ({ store }) => {
    const id = stream();
    const first = await store.append(id, [event('A'), event('B'), event('C')], 'no_stream');
    assert.is(first.revision, 2);
    assert.ok(first.position > 0n);
    assert.ok(first.written);
    const forwards = await store.readStream(id);
    assert.equal(forwards.map((e) => [e.type, e.revision]), [['A', 0], ['B', 1], ['C', 2]]);
    assert.ok(forwards[0]!.position < forwards[2]!.position);
    const backwards = await store.readStream(id, { direction: 'backwards', maxCount: 2 });
    assert.equal(backwards.map((e) => e.type), ['C', 'B']);
    const middle = await store.readStream(id, { fromRevision: 1, maxCount: 1 });
    assert.equal(middle.map((e) => e.type), ['B']);
    assert.equal(await store.readStream(stream()), []);
  });

  test('events keep their data and metadata', async ({ store }) => {
    const id = stream();
    const sent = event('Counted', { quantity: 12, note: 'shelf 3', nested: { a: [1, 2] } });
    await store.append(id, [sent], 'no_stream');
    const [read] = await store.readStream(id);
    assert.is(read!.id, sent.id);
    assert.equal(read!.data, sent.data);
    assert.equal(read!.metadata, sent.metadata);
    assert.is(read!.streamId, id);
    assert.instance(read!.recordedAt, Date);
  });

  test('expected revision: no_stream, stream_exists, any, exact, with the actual revision on a mismatch', async ({ store }) => {
    const id = stream();
    const conflict = async (fn: () => Promise<unknown>, actual: number) => {
      try {
        await fn();
        assert.unreachable('append should have conflicted');
      } catch (error) {
        assert.instance(error, WrongExpectedRevision);
        assert.is((error as WrongExpectedRevision).actual, actual);
      }
    };
    await conflict(() => store.append(id, [event()], 'stream_exists'), -1);
    await conflict(() => store.append(id, [event()], 0), -1);
    await store.append(id, [event()], 'no_stream');
    await conflict(() => store.append(id, [event()], 'no_stream'), 0);
    await conflict(() => store.append(id, [event()], 5), 0);
    assert.is((await store.append(id, [event()], 0)).revision, 1);
    assert.is((await store.append(id, [event()], 'stream_exists')).revision, 2);
    assert.is((await store.append(id, [event(), event()], 'any')).revision, 4);
    assert.is((await store.append(stream(), [event()], 'any')).revision, 0);
    assert.is(await store.streamRevision(id), 4);
    assert.is(await store.streamRevision(stream()), -1);
  });

  test('a failed append writes nothing', async ({ store }) => {
    const id = stream();
    await store.append(id, [event()], 'no_stream');
    const head = await store.headPosition();
    await store.append(id, [event(), event()], 7).catch(() => {});
    assert.is((await store.readStream(id)).length, 1);
    assert.is(await store.headPosition(), head);
  });

  test('an append commits all its events or none', async ({ store }) => {
    const id = stream();
    const taken = event();
    await store.append(stream(), [taken], 'no_stream');
    // The second event reuses an id already written elsewhere: the whole append must fail.
    await store.append(id, [event(), taken], 'no_stream').then(
      () => assert.unreachable('append with a reused id should fail'),
      () => {},
    );
    assert.equal(await store.readStream(id), []);
    assert.is(await store.streamRevision(id), -1);
  });

  test('the same event ids appended twice write once and answer the first result', async ({ store }) => {
    const id = stream();
    const events = [event('A'), event('B')];
    const first = await store.append(id, events, 'no_stream');
    const again = await store.append(id, events, 'no_stream');
    assert.is(again.written, false);
    assert.is(again.revision, first.revision);
    assert.is(again.position, first.position);
    const afterMore = await store.append(id, [event('C')], 1);
    const stale = await store.append(id, events, 0);
    assert.is(stale.revision, 1);
    assert.is((await store.readStream(id)).length, 3);
    assert.ok(afterMore.written);
  });

  test('concurrent appends at one revision: exactly one wins', async ({ store }) => {
    const id = stream();
    await store.append(id, [event()], 'no_stream');
    for (let round = 0; round < 5; round += 1) {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.append(id, [event()], round)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.is(won.length, 1, `round ${round}: one winner`);
      for (const r of lost) assert.instance((r as PromiseRejectedResult).reason, WrongExpectedRevision);
    }
    const events = await store.readStream(id);
    assert.equal(events.map((e) => e.revision), [0, 1, 2, 3, 4, 5]);
  });

  test('concurrent creations of one stream: exactly one wins', async ({ store }) => {
    const id = stream();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.append(id, [event()], 'no_stream')));
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.is((await store.readStream(id)).length, 1);
  });

  test('concurrent appends with any expected revision all land, with distinct revisions', async ({ store }) => {
    const id = stream();
    await Promise.all(Array.from({ length: 20 }, () => store.append(id, [event()], 'any')));
    const events = await store.readStream(id);
    assert.equal(events.map((e) => e.revision), Array.from({ length: 20 }, (_, i) => i));
  });

  test('readAll returns events of every stream in position order after a checkpoint', async ({ store }) => {
    const a = stream();
    const b = stream();
    const start = await store.headPosition();
    await store.append(a, [event('A1')], 'no_stream');
    await store.append(b, [event('B1')], 'no_stream');
    await store.append(a, [event('A2')], 0);
    const all = await store.readAll({ after: start });
    assert.equal(all.map((e) => e.type), ['A1', 'B1', 'A2']);
    const rest = await store.readAll({ after: all[0]!.position, maxCount: 1 });
    assert.equal(rest.map((e) => e.type), ['B1']);
    assert.is(await store.headPosition(), all[2]!.position);
  });

  test('a subscription delivers every event from its checkpoint, in order', async ({ store }) => {
    const start = await store.headPosition();
    const ids = [stream(), stream(), stream()];
    for (let i = 0; i < 30; i += 1) await store.append(ids[i % 3]!, [event('E', { i })], 'any');
    const { seen, checkpoint } = await collect(store, 30, start);
    assert.equal(seen.map((e) => (e.data as { i: number }).i), Array.from({ length: 30 }, (_, i) => i));
    assert.is(checkpoint, seen.at(-1)!.position);
    const later = await collect(store, 10, seen[19]!.position);
    assert.equal(later.seen.map((e) => (e.data as { i: number }).i), Array.from({ length: 10 }, (_, i) => 20 + i));
  });

  test('a failed handler gets the same batch again: nothing is skipped', async ({ store }) => {
    const start = await store.headPosition();
    const id = stream();
    await store.append(id, [event('A'), event('B')], 'no_stream');
    const delivered: string[] = [];
    let failOnce = true;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const subscription = store.subscribe({
      after: start,
      idleMs: 5,
      onError: () => {},
      async onEvents(events) {
        if (failOnce) {
          failOnce = false;
          throw new Error('projection failed');
        }
        delivered.push(...events.map((e) => e.type));
        if (delivered.length >= 2) resolveDone();
      },
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
    await subscription.stop();
    assert.equal(delivered, ['A', 'B']);
  });

  test('an event committed after a later position was visible is not skipped', async ({ fixture, store }) => {
    if (!fixture.beginHeldAppend) return; // positions assigned at commit: the race cannot happen
    const start = await store.headPosition();
    const slow = await fixture.beginHeldAppend(stream(), [event('Slow')]);
    await store.append(stream(), [event('Fast')], 'no_stream');
    const seen: string[] = [];
    const subscription = store.subscribe({
      after: start,
      idleMs: 5,
      async onEvents(events) {
        seen.push(...events.map((e) => e.type));
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen, [], 'nothing is delivered past a position still in flight');
    await slow.commit();
    const deadline = Date.now() + 5_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await subscription.stop();
    assert.equal(seen, ['Slow', 'Fast']);
  });

  test('a rolled-back append does not stall a subscription', async ({ fixture, store }) => {
    if (!fixture.beginHeldAppend) return;
    const start = await store.headPosition();
    const doomed = await fixture.beginHeldAppend(stream(), [event('Doomed')]);
    await store.append(stream(), [event('After')], 'no_stream');
    const seen: string[] = [];
    const subscription = store.subscribe({
      after: start,
      idleMs: 5,
      async onEvents(events) {
        seen.push(...events.map((e) => e.type));
      },
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen, []);
    await doomed.rollback();
    const deadline = Date.now() + 5_000;
    while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await subscription.stop();
    assert.equal(seen, ['After']);
  });

  test('under concurrent writers a subscription sees every event exactly once', async ({ store }) => {
    const start = await store.headPosition();
    const writers = 8;
    const perWriter = 40;
    const expected = writers * perWriter;
    const collecting = collect(store, expected, start, 20_000);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i += 1) await store.append(`race-${w}-${i % 4}`, [event('E', { w, i })], 'any');
      }),
    );
    const { seen } = await collecting;
    assert.is(seen.length, expected);
    assert.is(new Set(seen.map((e) => e.id)).size, expected);
    for (let i = 1; i < seen.length; i += 1) assert.ok(seen[i]!.position > seen[i - 1]!.position);
  });

  test.run();
}
