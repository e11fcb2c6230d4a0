import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { createAppendPool } from '../../../src/shared/db/pool.js';
import { WrongExpectedRevision } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { event } from '../../contract/event-store.contract.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * Group commit (append-batcher.ts, migrations 024 and 028) against real PostgreSQL. With one trip at
 * a time, an append sent while another is out waits for it and leaves with every other
 * append that came meanwhile, in one es_append_many call: each test starts one append, then
 * the ones it wants in one batch, and checks by the trip count that they shared a trip. The
 * last test runs the adapter's default (two trips, the second when matched).
 */
const test = suite<{ db: TestDatabase; appendPool: pg.Pool; store: PostgresEventStore }>('event store: group commit');

test.before.each(async (context) => {
  context.db = await createTestDatabase('group_commit');
  context.appendPool = createAppendPool(context.db.url);
  context.store = new PostgresEventStore(context.db.pool, context.appendPool, { groupCommit: { maxInFlight: 1 } });
});
test.after.each(async ({ db, appendPool }) => {
  await appendPool.end();
  await db.drop();
});

const trips = (store: PostgresEventStore): number => store.groupCommitStats?.trips ?? Number.NaN;

test('a lone writer never waits: each append is its own trip', async ({ store }) => {
  for (let i = 0; i < 5; i += 1) await store.append('thing-alone', [event()], i === 0 ? 'no_stream' : i - 1);
  assert.equal(store.groupCommitStats, { trips: 5, appends: 5, fallbacks: 0, overlapped: 0 });
});

test('appends sent while one is out go together, each with its own revision and position', async ({ store }) => {
  const first = store.append('thing-0', [event()], 'no_stream');
  const rest = Array.from({ length: 9 }, (_, i) => store.append(`thing-${i + 1}`, [event(), event()], 'no_stream'));
  const results = await Promise.all([first, ...rest]);
  assert.is(trips(store), 2, 'the first alone, the nine others in one trip');
  assert.ok(results.every((result) => result.written));
  assert.equal(results.slice(1).map((result) => result.revision), Array.from({ length: 9 }, () => 1));
  const positions = results.map((result) => result.position);
  assert.is(new Set(positions).size, 10);
  const all = await store.readAll({ after: 0n });
  assert.is(all.length, 19);
  for (const result of results) assert.ok(all.some((e) => e.position === result.position));
});

test('concurrent appends to one stream in one batch: exactly one wins per expected revision', async ({ store }) => {
  await store.append('thing-hot', [event()], 'no_stream');
  for (let round = 0; round < 3; round += 1) {
    const lead = store.append('thing-lead', [event()], 'any');
    const contenders = Array.from({ length: 8 }, () => store.append('thing-hot', [event()], round));
    const before = trips(store);
    const results = await Promise.allSettled(contenders);
    await lead;
    assert.ok(trips(store) - before <= 1, 'the contenders shared one trip');
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.is(won.length, 1, `round ${round}: one winner`);
    for (const r of results) {
      if (r.status === 'rejected') {
        assert.instance(r.reason, WrongExpectedRevision);
        assert.is((r.reason as WrongExpectedRevision).actual, round + 1);
      }
    }
  }
  assert.equal((await store.readStream('thing-hot')).map((e) => e.revision), [0, 1, 2, 3]);
  // 'any' in one batch: all land, one after the other.
  const lead = store.append('thing-lead', [event()], 'any');
  await Promise.all([lead, ...Array.from({ length: 6 }, () => store.append('thing-hot', [event()], 'any'))]);
  assert.equal((await store.readStream('thing-hot')).map((e) => e.revision), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('a conflict in one append of a batch fails that one alone, and it writes nothing', async ({ store }) => {
  await store.append('thing-a', [event()], 'no_stream');
  await store.append('thing-b', [event()], 'no_stream');
  const lead = store.append('thing-lead', [event()], 'no_stream');
  const stale = store.append('thing-a', [event('Stale')], 5);
  const good = store.append('thing-b', [event('Good')], 0);
  const created = store.append('thing-c', [event('Created')], 'no_stream');
  const [, staleResult, goodResult, createdResult] = await Promise.allSettled([lead, stale, good, created]);
  assert.is(trips(store), 4, 'two setup trips, the lead, then one for the three');
  assert.is(staleResult?.status, 'rejected');
  assert.instance((staleResult as PromiseRejectedResult).reason, WrongExpectedRevision);
  assert.is(((staleResult as PromiseRejectedResult).reason as WrongExpectedRevision).actual, 0);
  assert.is(goodResult?.status, 'fulfilled');
  assert.is(createdResult?.status, 'fulfilled');
  assert.equal((await store.readStream('thing-a')).map((e) => e.type), ['ThingHappened']);
  assert.equal((await store.readStream('thing-b')).map((e) => e.type), ['ThingHappened', 'Good']);
  assert.equal((await store.readStream('thing-c')).map((e) => e.type), ['Created']);
  assert.is(store.groupCommitStats?.fallbacks, 0);
});

test('an error in one append (a bad payload) fails that one alone; the others of its batch are written', async ({ store }) => {
  const lead = store.append('thing-lead', [event()], 'no_stream');
  const before = store.append('thing-1', [event('Before')], 'no_stream');
  const bad = store.append('thing-2', [{ ...event('Bad'), id: 'not-a-uuid' }], 'no_stream');
  const after = store.append('thing-3', [event('After')], 'no_stream');
  const [, beforeResult, badResult, afterResult] = await Promise.allSettled([lead, before, bad, after]);
  assert.is(badResult?.status, 'rejected');
  assert.match(String((badResult as PromiseRejectedResult).reason), /uuid/);
  assert.is(beforeResult?.status, 'fulfilled');
  assert.is(afterResult?.status, 'fulfilled');
  assert.is(store.groupCommitStats?.fallbacks, 1, 'the batch failed once and went again one by one');
  assert.equal((await store.readStream('thing-1')).map((e) => e.type), ['Before']);
  assert.equal(await store.readStream('thing-2'), []);
  assert.is(await store.streamRevision('thing-2'), -1, 'nothing of the bad append, not even its stream row');
  assert.equal((await store.readStream('thing-3')).map((e) => e.type), ['After']);
});

test('an event id taken by another stream fails its append alone', async ({ store }) => {
  const taken = event('Taken');
  await store.append('thing-owner', [taken], 'no_stream');
  const lead = store.append('thing-lead', [event()], 'no_stream');
  const thief = store.append('thing-thief', [taken], 'no_stream');
  const honest = store.append('thing-honest', [event()], 'no_stream');
  const [, thiefResult, honestResult] = await Promise.allSettled([lead, thief, honest]);
  assert.is(thiefResult?.status, 'rejected');
  assert.is(honestResult?.status, 'fulfilled');
  assert.is(await store.streamRevision('thing-thief'), -1);
});

test('a retried append in a batch answers its first result and writes nothing; two copies in one batch write once', async ({ store }) => {
  const events = [event('A'), event('B')];
  const first = await store.append('thing-retried', events, 'no_stream');
  const lead = store.append('thing-lead', [event()], 'no_stream');
  const retry = store.append('thing-retried', events, 'no_stream');
  const other = store.append('thing-other', [event()], 'no_stream');
  const [, retryResult, otherResult] = await Promise.all([lead, retry, other]);
  assert.equal(retryResult, { ...first, written: false });
  assert.ok(otherResult?.written);

  const twice = [event('C')];
  const lead2 = store.append('thing-lead', [event()], 'any');
  const copies = await Promise.all([store.append('thing-twice', twice, 'no_stream'), store.append('thing-twice', twice, 'no_stream')]);
  await lead2;
  assert.equal(copies.map((result) => result.written), [true, false]);
  assert.is(copies[0]?.position, copies[1]?.position);
  assert.is((await store.readStream('thing-twice')).length, 1);
  assert.is((await store.readStream('thing-retried')).length, 2);
});

test('two stores batching over the same streams in opposite orders do not deadlock', async ({ db, appendPool, store }) => {
  const other = new PostgresEventStore(db.pool, appendPool, { groupCommit: { maxInFlight: 1 } });
  const streams = Array.from({ length: 12 }, (_, i) => `thing-shared-${i}`);
  await Promise.all(streams.map((id) => store.append(id, [event()], 'no_stream')));
  for (let round = 0; round < 10; round += 1) {
    await Promise.all([
      ...streams.map((id) => store.append(id, [event()], 'any')),
      ...[...streams].reverse().map((id) => other.append(id, [event()], 'any')),
    ]);
  }
  for (const id of streams) assert.is(await store.streamRevision(id), 20);
  assert.is((store.groupCommitStats?.fallbacks ?? 0) + (other.groupCommitStats?.fallbacks ?? 0), 0, 'no batch failed (no deadlock)');
});

test('es_append_many decides the common case as a set: no es_append for appends of distinct streams, one for each exception', async ({ appendPool, store }) => {
  await store.append('thing-set-0', [event()], 'no_stream');
  await store.append('thing-set-1', [event()], 'no_stream');
  const retried = [event('Retried')];
  await store.append('thing-set-retried', retried, 'no_stream');
  const client = await appendPool.connect();
  try {
    await client.query('begin');
    await client.query("set local track_functions = 'pl'");
    const payload = (events: unknown[]): string => JSON.stringify(events);
    const { rows } = await client.query<{ ord: number; outcome: string; revision: string; last_position: string | null }>(
      'select ord, outcome, revision::text, last_position::text from es_append_many($1::text[], $2::bigint[], $3::jsonb[]) order by ord',
      [
        ['thing-set-0', 'thing-set-1', 'thing-set-new', 'thing-set-retried', 'thing-set-twice', 'thing-set-twice'],
        [0, 5, -1, -1, -1, 0],
        [payload([event(), event()]), payload([event()]), payload([event()]), payload(retried), payload([event()]), payload([event()])],
      ],
    );
    const { rows: calls } = await client.query<{ calls: string }>(
      "select coalesce(sum(calls), 0)::text as calls from pg_stat_xact_user_functions where funcname = 'es_append'",
    );
    await client.query('commit');
    assert.equal(
      rows.map((row) => [row.outcome, row.revision]),
      [['written', '2'], ['conflict', '0'], ['written', '0'], ['duplicate', '0'], ['written', '0'], ['written', '1']],
    );
    assert.ok(rows.every((row) => (row.outcome === 'conflict') === (row.last_position === null)));
    assert.is(calls[0]?.calls, '3', 'es_append only for the retry and the stream that comes twice');
  } finally {
    client.release();
  }
  assert.equal((await store.readStream('thing-set-0')).map((e) => e.revision), [0, 1, 2]);
  assert.equal((await store.readStream('thing-set-1')).map((e) => e.revision), [0]);
  assert.equal((await store.readStream('thing-set-twice')).map((e) => e.revision), [0, 1]);
});

test('by default a second trip leaves beside the first, and the rest gather behind them', async ({ db, appendPool }) => {
  // The adapter as the app builds it: GROUP_COMMIT_DEFAULTS (two trips, the second when matched).
  const store = new PostgresEventStore(db.pool, appendPool);
  // All sent before any answer: the first leaves alone, the second beside it (as many appends as
  // the one under way: one), the fourteen others wait for a trip to come back and go together.
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store.append(`thing-default-${i}`, [event()], 'no_stream')));
  assert.ok(results.every((result) => result.written && result.revision === 0));
  const stats = store.groupCommitStats;
  assert.is(stats?.appends, 16);
  assert.is(stats?.trips, 3, 'one alone, one beside it, fourteen together');
  assert.ok((stats?.overlapped ?? 0) >= 1, 'a trip left while another was under way');
  assert.is((await store.readAll({ after: 0n })).length, 16);
});

test.run();
