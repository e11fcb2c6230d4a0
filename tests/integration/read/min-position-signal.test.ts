import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { minPositionGuard } from '../../../src/read/min-position.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { ProgressSignal } from '../../../src/shared/read-model/progress-signal.js';
import { storeStream } from '../../../src/shared/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A request waiting with X-Min-Position wakes when the projector commits (it notifies in
 * the same transaction), not at its next poll; with the listening connection gone it
 * still answers, by polling, and never from a stale progress.
 */
const test = suite<{ db: TestDatabase; app: FastifyInstance; signal: ProgressSignal; projector: PostgresProjector }>('read: X-Min-Position woken by the projector');

/** Long enough that a wake by poll is told apart from a wake by notification (the second test waits one poll). */
const POLL_MS = 2_000;

const until = async (condition: () => boolean, ms: number) => {
  for (const deadline = Date.now() + ms; !condition() && Date.now() < deadline; ) await sleep(10);
  return condition();
};

test.before(async (context) => {
  context.db = await createTestDatabase('min_position_signal');
  await ensureReadModelSchema(context.db.url);
  context.projector = new PostgresProjector({ pool: context.db.pool, store: new PostgresEventStore(context.db.pool), projections: readModelProjections });
  await context.projector.registerPartitions(1);
  context.signal = new ProgressSignal(context.db.url);
  context.signal.start();
  const app = Fastify();
  app.addHook('preHandler', minPositionGuard({ pool: context.db.pool, schema: 'read_model', timeoutMs: 5_000, pollIntervalMs: POLL_MS, signal: context.signal }));
  app.get('/items', async () => ({ ok: true }));
  context.app = app;
  assert.ok(await until(() => context.signal.listening, 5_000), 'the signal listens');
});
test.after(async ({ db, app, signal }) => {
  await app.close();
  await signal.close();
  await db.drop();
});

test('a batch of events the projector applies wakes the waiting read at its commit', async ({ db, app, projector }) => {
  const store = new PostgresEventStore(db.pool);
  const storeId = randomUUID();
  await store.append(
    storeStream(storeId),
    [{ id: randomUUID(), type: 'StoreOpened', data: { storeId, name: 'Shop', code: null, address: null }, metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 } }],
    'no_stream',
  );
  const events = await store.readAll({ after: 0n, maxCount: 10 });
  const through = events.at(-1)!.position;
  const waiting = app.inject({ method: 'GET', url: '/items', headers: { 'x-min-position': through.toString() } });
  await sleep(100);
  const committed = Date.now();
  await projector.applyBatch({ events, partition: 0, through });
  const response = await waiting;
  const waited = Date.now() - committed;
  assert.is(response.statusCode, 200, response.body);
  assert.is(response.headers['x-read-position'], through.toString());
  assert.ok(waited < POLL_MS / 2, `answered ${waited} ms after the commit: woken by the poll, not the notification`);
});

test('with its connection gone, a waiter still answers (by polling), and the signal listens again', async ({ db, app, signal, projector }) => {
  await db.pool.query(sql.unsafe`
    select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %'`);
  assert.ok(await until(() => !signal.listening, 2_000), 'the signal saw its connection end');
  const waiting = app.inject({ method: 'GET', url: '/items', headers: { 'x-min-position': '1000' } });
  await sleep(50);
  await projector.applyBatch({ events: [], partition: 0, through: 1000n });
  const response = await waiting;
  assert.is(response.statusCode, 200, response.body);
  assert.is(response.headers['x-read-position'], '1000');
  assert.ok(await until(() => signal.listening, 5_000), 'the signal listens again');
});

test.run();
