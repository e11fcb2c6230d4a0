import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { createDatabasePool, type DatabasePool } from '../../../src/shared/db/pool.js';
import type { EventToAppend, RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { skuStream, stockItemStream, storeStream } from '../../../src/shared/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A live batch's writes go as one call of read_model_write_batch (migration 029), which
 * prepares each statement once per session and keeps its plan. The rows are those the same
 * statements write bound one by one; the plans are kept (generic, never planned again); a
 * session whose tables were replaced under its plans (a rebuild's swap) writes the new ones;
 * and a session does not hoard statements.
 */
interface Context {
  db: TestDatabase;
  store: PostgresEventStore;
  events: RecordedEvent[];
  /** One connection: the session whose prepared statements the tests look at. */
  single: DatabasePool;
}

const test = suite<Context>('projections: prepared writes');

const BOUND = 'read_model_bound';

/** Columns written with now() at apply time; everything else must be equal. */
const CLOCK_COLUMNS: Record<string, readonly string[]> = {
  store_totals: ['updated_at'],
  movement_window_clock: ['hour'],
  progress: ['updated_at'],
};

const event = (type: string, data: unknown): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 },
});

test.before(async (context) => {
  context.db = await createTestDatabase('prepared_writes');
  context.store = new PostgresEventStore(context.db.pool);
  context.single = await createDatabasePool(context.db.url, { maximumPoolSize: 1 });
  const { store } = context;
  const stores = [randomUUID(), randomUUID()];
  const skus = [randomUUID(), randomUUID(), randomUUID()];
  for (const [index, storeId] of stores.entries()) {
    await store.append(storeStream(storeId), [event('StoreOpened', { storeId, name: `Store ${index}`, code: null, address: null })], 'no_stream');
  }
  for (const [index, skuId] of skus.entries()) {
    await store.append(skuStream(skuId), [event('SkuCreated', { skuId, code: `PW-${index}`, name: `it's "${index}"`, category: null, unit: 'pc', price: '2.50', lowStockThreshold: 2 })], 'no_stream');
  }
  const quantity = new Map<string, number>();
  const revision = new Map<string, number>();
  for (const storeId of stores) {
    for (const skuId of skus) {
      await store.append(stockItemStream(storeId, skuId), [event('StockItemAdded', { storeId, skuId, quantity: 10, lowStockThreshold: 2 })], 'no_stream');
      quantity.set(`${storeId}/${skuId}`, 10);
      revision.set(`${storeId}/${skuId}`, 0);
    }
  }
  const reasons = ['sold', 'received', 'damaged', 'returned'] as const;
  for (let round = 0; round < 24; round += 1) {
    const storeId = stores[round % stores.length]!;
    const skuId = skus[round % skus.length]!;
    const key = `${storeId}/${skuId}`;
    const reason = reasons[round % reasons.length]!;
    const delta = reason === 'received' || reason === 'returned' ? 3 : -1;
    const after = quantity.get(key)! + delta;
    await store.append(stockItemStream(storeId, skuId), [event('StockAdjusted', { delta, reason, note: null, reference: `r-${round}`, quantityAfter: after })], revision.get(key)!);
    quantity.set(key, after);
    revision.set(key, revision.get(key)! + 1);
    if (round === 11) await store.append(skuStream(skus[0]!), [event('SkuUpdated', { price: '3.75' })], 0);
  }
  context.events = await store.readAll({ after: 0n, maxCount: 10_000 });
});

test.after(async ({ db, single }) => {
  await single.end();
  await db.drop();
});

/** Every table of a read model's schema, every row as text in one order (numerics by value). */
async function everyTable(pool: DatabasePool, schema: string): Promise<Record<string, string[]>> {
  const tables = z.array(z.string()).parse(
    await pool.anyFirst(sql.unsafe`select table_name::text from information_schema.tables where table_schema = ${schema} and table_name <> 'schema_fingerprint' order by 1`),
  );
  const result: Record<string, string[]> = {};
  for (const table of tables) {
    const columns = z
      .array(z.object({ name: z.string(), type: z.string() }))
      .parse(
        await pool.any(sql.unsafe`
          select column_name::text as name, data_type::text as type from information_schema.columns
           where table_schema = ${schema} and table_name = ${table} order by ordinal_position`),
      )
      .filter(({ name }) => !(CLOCK_COLUMNS[table] ?? []).includes(name));
    const list = sql.join(
      columns.map(({ name, type }) => (type === 'numeric' ? sql.fragment`trim_scale(${sql.identifier([name])})` : sql.identifier([name]))),
      sql.fragment`, `,
    );
    result[table] = z.array(z.string()).parse(await pool.anyFirst(sql.unsafe`select r::text from (select ${list} from ${sql.identifier([schema, table])}) r order by 1`));
  }
  return result;
}

const batchesOf = (events: readonly RecordedEvent[], size: number) =>
  Array.from({ length: Math.ceil(events.length / size) }, (_, index) => events.slice(index * size, index * size + size));

test('a live batch writes the rows its statements write bound one by one', async ({ db, store, events, single }) => {
  await ensureReadModelSchema(db.url, 'read_model', { replace: true });
  await ensureReadModelSchema(db.url, BOUND, { replace: true });
  const live = new PostgresProjector({ pool: single, store, projections: readModelProjections });
  const bound = new PostgresProjector({ pool: db.pool, store, projections: readModelProjections, schema: BOUND });
  for (const batch of batchesOf(events, 2)) {
    const through = batch.at(-1)!.position;
    await live.applyBatch({ events: batch, partition: 0, through });
    // applyWithin on a plain transaction: each statement bound and sent alone, as before.
    await db.pool.transaction((tx) => bound.applyWithin(tx, { events: batch, partition: 0, through }));
  }
  const expected = await everyTable(db.pool, BOUND);
  assert.ok((expected['stock_ledger'] ?? []).length > 24, 'the ledger has a row per stock event');
  assert.is((expected['store_totals'] ?? []).length, 2, 'both stores have totals');
  assert.ok((expected['movements_daily'] ?? []).length > 0, 'movements were counted');
  const written = await everyTable(db.pool, 'read_model');
  assert.equal(Object.keys(written), Object.keys(expected), 'the same tables');
  for (const table of Object.keys(expected)) assert.equal(written[table], expected[table], table);
  await db.pool.query(sql.unsafe`drop schema ${sql.identifier([BOUND])} cascade`);
});

test('the session keeps each statement prepared, with a generic plan, and plans it no more', async ({ single }) => {
  const statements = z
    .array(z.object({ name: z.string(), generic: z.bigint(), custom: z.bigint() }))
    .parse(
      await single.any(sql.unsafe`
        select name, generic_plans as generic, custom_plans as custom from pg_prepared_statements where name like 'rmw\_%' order by name`),
    );
  // The locks, the rows of five tables, the movements' clock and windows, the ledger, the progress, NOTIFY.
  assert.ok(statements.length >= 10, `${statements.length} statements prepared`);
  for (const statement of statements) assert.is(statement.custom, 0n, `${statement.name} was never planned with its values`);
  assert.ok(
    statements.some((statement) => statement.generic > 5n),
    'statements were executed many times on one plan',
  );
});

test('a session whose tables were replaced (a rebuild swaps the schema) writes the new tables', async ({ db, store, events, single }) => {
  const live = new PostgresProjector({ pool: single, store, projections: readModelProjections });
  const half = Math.floor(events.length / 2);
  await ensureReadModelSchema(db.url, 'read_model', { replace: true });
  for (const batch of batchesOf(events.slice(0, half), 5)) await live.applyBatch({ events: batch, partition: 0, through: batch.at(-1)!.position });
  // The session's prepared statements name tables that are dropped here and made anew.
  await ensureReadModelSchema(db.url, 'read_model', { replace: true });
  for (const batch of batchesOf(events, 5)) await live.applyBatch({ events: batch, partition: 0, through: batch.at(-1)!.position });
  const rows = await single.oneFirst(sql.unsafe`select count(*) from read_model.stock_ledger`);
  const stockEvents = events.filter((recorded) => recorded.streamId.startsWith('stockitem-')).length;
  assert.is(rows, BigInt(stockEvents), 'every stock event in the new ledger');
  assert.is(await single.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`), events.at(-1)!.position);
});

test('a watermark-only batch moves the progress through the same call', async ({ db, store, single }) => {
  const live = new PostgresProjector({ pool: single, store, projections: readModelProjections });
  const before = z.bigint().parse(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`));
  await live.applyBatch({ events: [], partition: 0, through: before + 5n });
  await live.applyBatch({ events: [], partition: 0, through: before + 2n }); // never backwards
  assert.is(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`), before + 5n);
});

test('a session holding 256 statements forgets them all before preparing more', async ({ single }) => {
  const call = (count: number, offset: number) => {
    const names = Array.from({ length: count }, (_, index) => `rmw_test_${offset + index}`);
    return single.query(sql.unsafe`
      select read_model_write_batch(${sql.array(names, 'text')}, ${sql.array(
        names.map((_, index) => `select $1::int + ${offset + index}`),
        'text',
      )}, ${sql.array(
        names.map(() => `('1')`),
        'text',
      )})`);
  };
  await call(300, 0);
  const held = () => single.oneFirst(sql.unsafe`select count(*) from pg_prepared_statements where name like 'rmw\_%'`);
  assert.ok(z.bigint().parse(await held()) >= 300n);
  await call(1, 1_000);
  assert.is(await held(), 1n);
  const refused = await single.query(sql.unsafe`select read_model_write_batch('{not_ours}', '{"select 1"}', '{""}')`).then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof Error, 'only names of its own');
});

test.run();
