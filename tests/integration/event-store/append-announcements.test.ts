import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { sql } from 'slonik';
import { NotifySignal } from '../../../src/shared/db/notify-signal.js';
import { createAppendPool } from '../../../src/shared/db/pool.js';
import type { RecordedEvent, Subscription } from '../../../src/shared/event-store/port.js';
import { APPENDED_CHANNEL, announceAppends, announceAppendsSlonik } from '../../../src/shared/event-store/postgres/append-announcer.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { event } from '../../contract/event-store.contract.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * The PostgreSQL store announces appends (append-announcer.ts) and a subscription woken by
 * them reads at once: here its idle poll is a minute long, so an event seen within the test's
 * seconds was read because it was announced, not because a poll came round.
 */
interface Context {
  db: TestDatabase;
  appendPool: pg.Pool;
  signal: NotifySignal;
}

const test = suite<Context>('event store: appends announced wake a caught-up subscription');

test.before.each(async (context) => {
  context.db = await createTestDatabase('append_announce');
  context.appendPool = createAppendPool(context.db.url);
  context.signal = new NotifySignal(context.db.url, APPENDED_CHANNEL);
  context.signal.start();
  await waitFor(() => context.signal.listening, 'the signal to listen', 5_000);
});
test.after.each(async ({ db, appendPool, signal }) => {
  await signal.close();
  await appendPool.end();
  await db.drop();
});

const idleForAMinute = async (store: PostgresEventStore, signal: NotifySignal | null, seen: RecordedEvent[]): Promise<Subscription> => {
  const subscription = store.subscribe({
    after: 0n,
    idleMs: 60_000,
    wake: signal,
    onEvents: async (events) => {
      seen.push(...events);
    },
  });
  // Let it poll an empty store and settle into its idle wait.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return subscription;
};

for (const transport of ['plain pg', 'slonik'] as const) {
  test(`an append through ${transport} is delivered long before the idle poll`, async ({ db, appendPool, signal }) => {
    const store = new PostgresEventStore(db.pool, transport === 'plain pg' ? appendPool : null);
    const seen: RecordedEvent[] = [];
    const subscription = await idleForAMinute(store, signal, seen);
    try {
      await store.append('thing-announced', [event('A')], 'no_stream');
      await waitFor(() => seen.length === 1, 'the announced event', 10_000);
      await store.append('thing-announced', [event('B')], 0);
      await waitFor(() => seen.length === 2, 'the second announced event', 10_000);
      assert.equal(
        seen.map((e) => e.type),
        ['A', 'B'],
      );
    } finally {
      await subscription.stop();
    }
  });
}

test('a store told not to announce wakes nobody', async ({ db, appendPool, signal }) => {
  const store = new PostgresEventStore(db.pool, appendPool, { announceAppends: false });
  const before = signal.generation;
  await store.append('thing-quiet', [event('A')], 'no_stream');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is(signal.generation, before);
});

test('appends answered together make one announcement', async ({ db, appendPool, signal }) => {
  const store = new PostgresEventStore(db.pool, appendPool);
  await store.append('thing-warm', [event('A')], 'no_stream');
  await waitFor(() => signal.generation > 0, 'the first announcement', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = signal.generation;
  // One group-commit trip: all are answered in the same turn of the event loop.
  await Promise.all(Array.from({ length: 20 }, (_, index) => store.append(`thing-together-${index}`, [event('A')], 'no_stream')));
  await waitFor(() => signal.generation > before, 'the announcement', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(signal.generation - before <= 3, `${signal.generation - before} announcements for 20 appends (in two trips), not one each`);
});

// The announcement turns synchronous_commit off for its own transaction: were it to stay on the
// pooled session, the appends that session carries next would commit without their WAL flush.
test('the announcement leaves its session committing synchronously', async ({ db, signal }) => {
  const heard = async (announce: () => Promise<unknown>, how: string): Promise<void> => {
    const before = signal.generation;
    await announce();
    await waitFor(() => signal.generation > before, `the ${how} announcement`, 10_000);
  };
  const one = createAppendPool(db.url, 1);
  try {
    await heard(() => announceAppends(one), 'plain pg');
    const shown = await one.query<{ synchronous_commit: string }>('show synchronous_commit');
    assert.is(shown.rows[0]?.synchronous_commit, 'on', 'plain pg: synchronous_commit after an announcement');
  } finally {
    await one.end();
  }
  await db.pool.connect(async (connection) => {
    await heard(() => announceAppendsSlonik(connection), 'slonik');
    assert.is(await connection.oneFirst(sql.unsafe`select current_setting('synchronous_commit')`), 'on', 'slonik: synchronous_commit after an announcement');
  });
});

test.run();
