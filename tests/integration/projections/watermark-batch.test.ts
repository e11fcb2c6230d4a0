import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { PostgresProjector, READ_MODEL_LOCK } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema, READ_MODEL_NEXT } from '../../../src/projections/postgres/read-model-schema.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A batch that carries only a watermark (most batches of a sparse load) moves its
 * partition's progress in one round trip. It still waits for a rebuild's swap and lands in
 * the model swapped in: it must not open the live table before the lock is granted, or it
 * and the swap (which drops that table) would wait for each other.
 */
const test = suite<{ db: TestDatabase; projector: PostgresProjector }>('projections: a watermark-only batch');

test.before(async (context) => {
  context.db = await createTestDatabase('watermark_batch');
  await ensureReadModelSchema(context.db.url);
  context.projector = new PostgresProjector({ pool: context.db.pool, store: new PostgresEventStore(context.db.pool), projections: readModelProjections });
  await context.projector.registerPartitions(3);
});
test.after(async ({ db }) => db.drop());

const progressOf = async (db: TestDatabase, partition: number) =>
  z.bigint().parse(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = ${partition}`));

test('moves its partition, and never back', async ({ db, projector }) => {
  await projector.applyBatch({ events: [], partition: 1, through: 42n });
  assert.is(await progressOf(db, 1), 42n);
  await projector.applyBatch({ events: [], partition: 1, through: 40n });
  assert.is(await progressOf(db, 1), 42n, 'a late watermark does not move it back');
  assert.is(await progressOf(db, 0), 0n, 'the other partitions stay');
});

test('waits for a rebuild swap and lands in the model swapped in, without a deadlock', async ({ db, projector }) => {
  await ensureReadModelSchema(db.url, READ_MODEL_NEXT, { replace: true });
  let applied: Promise<void> | null = null;
  await db.pool.transaction(async (tx) => {
    // The swap of rebuildReadModel: the lock exclusively, copy the progress, rename the schemas, drop the old one.
    await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext(${READ_MODEL_LOCK}))`);
    await tx.query(sql.unsafe`insert into read_model_next.progress (partition, through) select partition, through from read_model.progress`);
    applied = projector.applyBatch({ events: [], partition: 2, through: 77n });
    // Until the batch waits for the lock.
    for (let tries = 0; ; tries += 1) {
      const waiting = await tx.oneFirst(sql.unsafe`select count(*) from pg_locks where locktype = 'advisory' and not granted`);
      if (z.bigint().parse(waiting) > 0n) break;
      if (tries > 500) throw new Error('the watermark batch never waited for the swap');
      await sleep(10);
    }
    await tx.query(sql.unsafe`alter schema read_model rename to read_model_old`);
    await tx.query(sql.unsafe`alter schema read_model_next rename to read_model`);
    await tx.query(sql.unsafe`drop schema read_model_old cascade`);
  });
  await applied;
  assert.is(await progressOf(db, 2), 77n, 'the watermark is in the model swapped in');
  assert.is(await progressOf(db, 1), 42n, 'the copied progress stands');
});

test('watermark-only batches handed over together go as one statement: each partition at its furthest, never back', async ({ db, projector }) => {
  const before = await progressOf(db, 2);
  await Promise.all([
    projector.applyBatch({ events: [], partition: 0, through: 900n }),
    projector.applyBatch({ events: [], partition: 1, through: 901n }),
    projector.applyBatch({ events: [], partition: 1, through: 950n }),
    projector.applyBatch({ events: [], partition: 1, through: 920n }),
  ]);
  assert.is(await progressOf(db, 0), 900n);
  assert.is(await progressOf(db, 1), 950n);
  assert.is(await progressOf(db, 2), before, 'a partition not in them stays where it was');
  await Promise.all([projector.applyBatch({ events: [], partition: 0, through: 10n }), projector.applyBatch({ events: [], partition: 1, through: 960n })]);
  assert.is(await progressOf(db, 0), 900n, 'an older watermark never moves it back');
  assert.is(await progressOf(db, 1), 960n);
  const refused = await Promise.allSettled([projector.applyBatch({ events: [], partition: -1, through: 1_000n }), projector.applyBatch({ events: [], partition: 2, through: 1_000n })]);
  assert.ok(refused.every((outcome) => outcome.status === 'rejected'), 'a batch that cannot be written fails those it went with: the bus hands each over again');
  assert.is(await progressOf(db, 2), before);
});

test.run();
