import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { minPositionGuard } from '../../../src/read/min-position.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * X-Min-Position on a point read: the guard reads the progress and the stuck streams in one
 * snapshot. The projector marks a stream stuck and moves its partition past the event in one
 * transaction, so a read waiting for that event must see the mark when it sees the
 * progress, and answer 503, never the row without the change.
 */
const test = suite<{ db: TestDatabase; app: FastifyInstance }>('read: X-Min-Position and a stream that gets stuck');

const PARTITIONS = 3;

test.before(async (context) => {
  context.db = await createTestDatabase('min_position_stuck');
  await ensureReadModelSchema(context.db.url);
  await context.db.pool.query(sql.unsafe`insert into read_model.progress (partition, through) select p, 0 from generate_series(0, ${PARTITIONS - 1}) p`);
  const app = Fastify();
  app.addHook('preHandler', minPositionGuard({ pool: context.db.pool, schema: 'read_model', timeoutMs: 3_000, pollIntervalMs: 5 }));
  app.get('/items/:id', { config: { readsStream: (params) => `StockItem-${(params as { id: string }).id}` } }, async () => ({ stale: 'the row as it was' }));
  context.app = app;
});
test.after(async ({ db, app }) => {
  await app.close();
  await db.drop();
});

/** What the projector's transaction does on a poison event: the mark and the progress, together. */
const stuckAndPast = (db: TestDatabase, streamId: string, position: number) =>
  db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      insert into read_model.stuck_streams (stream_id, event_id, position, type, reason)
      values (${streamId}, gen_random_uuid(), ${position}, 'StockAdjusted', 'cannot read it')`);
    await tx.query(sql.unsafe`update read_model.progress set through = ${position + 5}`);
  });

test('a read waiting for an event its stream gets stuck on answers 503 stream-stuck', async ({ db, app }) => {
  const waiting = app.inject({ method: 'GET', url: '/items/a', headers: { 'x-min-position': '10' } });
  await sleep(50);
  await stuckAndPast(db, 'StockItem-a', 10);
  const response = await waiting;
  assert.is(response.statusCode, 503, response.body);
  assert.is(response.json<{ type: string }>().type.endsWith('stream-stuck'), true, response.body);
});

test('a stream not stuck reads once its partition is through', async ({ app }) => {
  const response = await app.inject({ method: 'GET', url: '/items/b', headers: { 'x-min-position': '12' } });
  assert.is(response.statusCode, 200, response.body);
  assert.is(response.headers['x-read-position'], '15');
});

test.run();
