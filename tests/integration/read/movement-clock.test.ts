import pg from 'pg';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';
import { stockTwoStores } from '../../support/two-stores.js';

/**
 * The top movers' clock (movements.ts): a batch that moves units takes the clock row alone only
 * when it moves the clock; a batch of the hour the clock stands at shares it, so the partitions'
 * batches of one hour do not wait for one another, while a batch that moves the clock still
 * waits for every batch in flight (the windows never change under a move).
 */

interface Context {
  harness: Harness;
  events: RecordedEvent[];
}

const test = suite<Context>('read model: the movement windows clock, shared by the batches of its hour');

const projector = (harness: Harness) => new PostgresProjector({ pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections });

/** Settles with 'applied', or 'waiting' if the batch is still out after `ms`. */
const within = (applying: Promise<unknown>, ms: number): Promise<'applied' | 'waiting'> =>
  Promise.race([applying.then(() => 'applied' as const), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms))]);

/** A transaction elsewhere holding the clock as a batch of its hour now does (FOR SHARE), until release. */
async function batchInFlight(harness: Harness): Promise<{ release(): Promise<void> }> {
  // A client of its own: the lock stays held across the test's awaits until release.
  const held = new pg.Client({ connectionString: harness.db.url });
  await held.connect();
  await held.query('begin');
  await held.query('select hour from read_model.movement_window_clock for share');
  return {
    async release() {
      await held.query('commit');
      await held.end();
    },
  };
}

const windowUnits = async (harness: Harness): Promise<number> =>
  z
    .object({ units: z.number() })
    .parse(await harness.db.pool.one(sql.unsafe`select coalesce(sum(units_in_24h + units_out_24h), 0)::int as units from read_model.sku_movement_windows`))
    .units;

test.before(async (context) => {
  context.harness = await startHarness('movement-clock');
  const manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const { north, tea, salt, item, ok } = await stockTwoStores(manager);
  await ok(manager.patch(item(north, tea), { delta: -5, reason: 'sold' }));
  await ok(manager.patch(item(north, salt), { delta: 4, reason: 'received' }));
  context.events = await context.harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
});

test.after(async ({ harness }) => {
  await harness.close();
});

/** The last event that moves units, and every event before it applied (the clock at this hour). */
async function upToLastMovement(harness: Harness, events: RecordedEvent[]): Promise<RecordedEvent> {
  const index = events.findLastIndex((event) => event.type === 'StockAdjusted');
  assert.ok(index > 0, 'the script adjusts stock');
  await ensureReadModelSchema(harness.db.url, 'read_model', { replace: true });
  await projector(harness).applyBatch({ events: events.slice(0, index), partition: 0, through: 0n });
  return events[index]!;
}

test('a batch of the clock\'s hour is not held up by another batch of that hour in flight', async ({ harness, events }) => {
  const last = await upToLastMovement(harness, events);
  const before = await windowUnits(harness);
  const other = await batchInFlight(harness);
  try {
    const applying = projector(harness).applyBatch({ events: [last], partition: 1, through: 0n });
    assert.is(await within(applying, 5_000), 'applied', 'applied while the other batch holds the clock shared');
  } finally {
    await other.release();
  }
  assert.ok((await windowUnits(harness)) > before, 'its units are in the windows');
});

test('a batch that moves the clock waits for the batches in flight, then moves it', async ({ harness, events }) => {
  const last = await upToLastMovement(harness, events);
  // The clock an hour behind: this batch's hour (now) moves it.
  await harness.db.pool.query(sql.unsafe`update read_model.movement_window_clock set hour = hour - interval '1 hour'`);
  const other = await batchInFlight(harness);
  let applying: Promise<void>;
  try {
    applying = projector(harness).applyBatch({ events: [last], partition: 1, through: 0n });
    assert.is(await within(applying, 500), 'waiting', 'the move waits while a batch of the old hour is in flight');
  } finally {
    await other.release();
  }
  assert.is(await within(applying, 5_000), 'applied');
  const clock = z
    .object({ current: z.boolean() })
    .parse(await harness.db.pool.one(sql.unsafe`select hour = date_trunc('hour', now(), 'UTC') as current from read_model.movement_window_clock`));
  assert.ok(clock.current, 'the clock moved to this hour');
});

test.run();
