import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { sql } from 'slonik';
import { createAppendPool } from '../../../src/shared/db/pool.js';
import { WrongExpectedRevision } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { event } from '../../contract/event-store.contract.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * readStream through the plain pg pool (the append pool) checks columns by type instead of
 * zod (rows.ts, fromPlainRow): it must read exactly what the slonik path reads, and still
 * refuse metadata that does not parse.
 */
const test = suite<{ db: TestDatabase; appendPool: pg.Pool }>('event store: stream reads on plain pg');

test.before.each(async (context) => {
  context.db = await createTestDatabase('plain_read');
  context.appendPool = createAppendPool(context.db.url);
});
test.after.each(async ({ db, appendPool }) => {
  await appendPool.end();
  await db.drop();
});

test('reads what slonik reads, both directions, from a revision, limited', async ({ db, appendPool }) => {
  const plain = new PostgresEventStore(db.pool, appendPool);
  const slonik = new PostgresEventStore(db.pool);
  await plain.append('thing-read', [event('A', { n: 1, text: 'ü' }), event('B', null)], 'no_stream');
  await plain.append('thing-read', [event('C', [1, 2])], 1);
  // Past revision 9: revisions must sort as numbers, not as the text they are read as.
  await plain.append('thing-read', Array.from({ length: 12 }, () => event()), 2);
  for (const options of [{}, { fromRevision: 1 }, { fromRevision: 9, maxCount: 3 }, { maxCount: 2 }, { direction: 'backwards' as const }, { direction: 'backwards' as const, fromRevision: 1, maxCount: 1 }]) {
    assert.equal(await plain.readStream('thing-read', options), await slonik.readStream('thing-read', options), JSON.stringify(options));
  }
  assert.equal(await plain.readStream('thing-none'), []);
});

test('metadata that does not parse fails the read, as through slonik', async ({ db, appendPool }) => {
  const plain = new PostgresEventStore(db.pool, appendPool);
  await plain.append('thing-bad', [event()], 'no_stream');
  await db.pool.query(sql.unsafe`update es_events set metadata = '{"actor": 5}'::jsonb where stream_id = 'thing-bad'`);
  try {
    await plain.readStream('thing-bad');
    assert.unreachable('the read should have failed');
  } catch (error) {
    assert.not.instance(error, assert.Assertion);
  }
});

test('a conflict on an exact revision answers the events after it, alone and in a batch; without them on no_stream', async ({ db, appendPool }) => {
  for (const groupCommit of [false, { maxInFlight: 1 }] as const) {
    const plain = new PostgresEventStore(db.pool, appendPool, { groupCommit });
    const id = `thing-missed-${groupCommit === false ? 'alone' : 'batch'}`;
    await plain.append(id, [event(), event()], 'no_stream');
    await plain.append(id, [event(), event()], 1);
    const lead = plain.append(`${id}-lead`, [event()], 'no_stream');
    const stale = plain.append(id, [event()], 0);
    const again = plain.append(id, [event()], 'no_stream');
    const [, staleResult, againResult] = await Promise.allSettled([lead, stale, again]);
    const conflict = (staleResult as PromiseRejectedResult).reason as WrongExpectedRevision;
    assert.instance(conflict, WrongExpectedRevision);
    assert.is(conflict.actual, 3);
    assert.equal(conflict.missed, await plain.readStream(id, { fromRevision: 1 }));
    const noStream = (againResult as PromiseRejectedResult).reason as WrongExpectedRevision;
    assert.instance(noStream, WrongExpectedRevision);
    assert.is(noStream.missed, undefined);
  }
});

test.run();
