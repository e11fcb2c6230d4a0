import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';
import { stockTwoStores } from '../../support/two-stores.js';

/**
 * A rebuild takes shortcuts the live projector may not (no locks, rows held back across
 * batches and saved once, indexes built after the load): every table of the read model it
 * builds equals, row for row, what the live projector builds from the same events applied
 * in small batches.
 */

interface Context {
  harness: Harness;
  manager: Client;
  events: RecordedEvent[];
}

const test = suite<Context>('projections: a rebuild builds the read model the live projector builds');

/** Columns written with now() at apply time; everything else must be equal. */
const CLOCK_COLUMNS: Record<string, readonly string[]> = {
  store_totals: ['updated_at'],
  movement_window_clock: ['hour'],
  progress: ['updated_at'],
};

/** Every table of read_model, every row, as text in one order (numerics by value: a sum's scale may differ). */
async function everyTable(harness: Harness): Promise<Record<string, string[]>> {
  const { pool } = harness.db;
  const tables = z.array(z.string()).parse(
    await pool.anyFirst(sql.unsafe`select table_name::text from information_schema.tables where table_schema = 'read_model' order by 1`),
  );
  const result: Record<string, string[]> = {};
  for (const table of tables) {
    if (table === 'progress') continue; // the live projector's partitions, copied over by the swap
    const columns = z
      .array(z.object({ name: z.string(), type: z.string() }))
      .parse(
        await pool.any(sql.unsafe`
          select column_name::text as name, data_type::text as type from information_schema.columns
           where table_schema = 'read_model' and table_name = ${table} order by ordinal_position`),
      )
      .filter(({ name }) => !(CLOCK_COLUMNS[table] ?? []).includes(name));
    const list = sql.join(
      columns.map(({ name, type }) => (type === 'numeric' ? sql.fragment`trim_scale(${sql.identifier([name])})` : sql.identifier([name]))),
      sql.fragment`, `,
    );
    const rows = await pool.anyFirst(
      sql.unsafe`select r::text from (select ${list} from ${sql.identifier(['read_model', table])}) r order by 1`,
    );
    result[table] = z.array(z.string()).parse(rows);
  }
  return result;
}

test.before(async (context) => {
  context.harness = await startHarness('rebuild-equal');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const { manager } = context;
  const { north, south, tea, rope, salt, gone, item, ok } = await stockTwoStores(manager);
  // Runs of stock-only events (a rebuild holds those rows back), then changes of price and
  // of SKUs among them (which make it save what it held back first).
  for (let round = 0; round < 4; round += 1) {
    await ok(manager.patch(item(north, tea), { delta: -2, reason: 'sold' }));
    await ok(manager.patch(item(south, rope), { delta: 3, reason: 'received' }));
    await ok(manager.patch(item(north, salt), { delta: 1, reason: 'returned' }));
    await ok(manager.patch(item(south, tea), { delta: -1, reason: 'damaged' }));
  }
  await ok(manager.patch(`/api/skus/${tea}`, { price: '5.25' }));
  await ok(manager.patch(item(north, tea), { delta: 9, reason: 'received' }));
  await ok(manager.patch(item(south, rope), { countedQuantity: 1 }));
  await ok(manager.patch(item(north, rope), { lowStockThreshold: 1 }));
  await ok(manager.patch(`/api/skus/${salt}`, { price: '0.75' }));
  await ok(manager.patch(item(north, salt), { delta: 4, reason: 'received' }));
  await ok(manager.delete(item(south, tea)));
  await ok(manager.delete(`/api/skus/${gone}`));
  await ok(manager.patch(`/api/stores/${south}`, { name: 'South Quay' }));
  await ok(manager.patch(item(north, tea), { delta: -3, reason: 'sold' }));
  await ok(manager.patch(`/api/skus/${rope}`, { price: '2.2' }));
  // Ending on stock-only events: what a rebuild holds back at the end is saved too.
  for (let round = 0; round < 3; round += 1) {
    await ok(manager.patch(item(north, rope), { delta: 5, reason: 'received' }));
    await ok(manager.patch(item(north, tea), { delta: -1, reason: 'sold' }));
  }
  context.events = await context.harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
});

test.after(async ({ harness }) => {
  await harness.close();
});

test('every table of a rebuild equals the live projector\'s, however the rebuild batches', async ({ harness, events }) => {
  assert.ok(events.length > 30, `a history of ${events.length} events`);
  await ensureReadModelSchema(harness.db.url, 'read_model', { replace: true });
  const live = new PostgresProjector({ pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections });
  for (let start = 0; start < events.length; start += 3) {
    const batch = events.slice(start, start + 3);
    await live.applyBatch({ events: batch, partition: 0, through: batch.at(-1)!.position });
  }
  const expected = await everyTable(harness);
  assert.ok((expected['stock_ledger'] ?? []).length > 20, 'the ledger has a row per stock event');
  assert.ok((expected['store_totals'] ?? []).length === 2, 'both stores have totals');
  // The last: counters held in memory written whenever they pass one key, not only at the end.
  for (const [batchSize, eventsPerApply, heldKeys] of [[2, 5, undefined], [4, 1, undefined], [1_000, 1_000, undefined], [2, 3, 1]] as const) {
    await rebuildReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, batchSize, eventsPerApply, heldKeys });
    const rebuilt = await everyTable(harness);
    assert.equal(Object.keys(rebuilt), Object.keys(expected), 'the same tables');
    for (const table of Object.keys(expected)) {
      assert.equal(rebuilt[table], expected[table], `${table}, pages of ${batchSize}, ${eventsPerApply} events per transaction, ${heldKeys ?? 'the default'} keys held`);
    }
  }
});

test('a rebuild builds again the indexes it left out while loading', async ({ harness }) => {
  const indexes = async (schema: string) =>
    z.array(z.string()).parse(
      await harness.db.pool.anyFirst(sql.unsafe`
        select replace(pg_get_indexdef(i.indexrelid), ${`${schema}.`}, '') from pg_index i
          join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = ${schema} order by c.relname`),
    );
  await ensureReadModelSchema(harness.db.url, 'read_model_fresh', { replace: true });
  const fresh = await indexes('read_model_fresh');
  await harness.db.pool.query(sql.unsafe`drop schema read_model_fresh cascade`);
  await rebuildReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections });
  assert.equal(await indexes('read_model'), fresh);
});

test.run();
