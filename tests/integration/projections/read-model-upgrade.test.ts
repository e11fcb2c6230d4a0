import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { startBackground } from '../../../src/background.js';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { ensureReadModelSchema, schemaFingerprint, storedFingerprint } from '../../../src/projections/postgres/read-model-schema.js';
import { ensureCurrentReadModel } from '../../../src/projections/postgres/read-model-upgrade.js';
import { loadConfig } from '../../../src/shared/config.js';
import { InProcessBus } from '../../../src/shared/event-bus/in-process.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { newId } from '../../../src/shared/ids.js';
import { skus, stockItems, stores } from '../../../src/write/aggregates.js';
import { CommandHandler } from '../../../src/write/command-handler.js';
import { skuStream, stockItemStream, storeStream } from '../../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

interface Context {
  db: TestDatabase;
  store: PostgresEventStore;
}

const test = suite<Context>('projections: a read model of another release upgrades itself');

const logs = () => {
  const lines: string[] = [];
  return { lines, info: (_: object, message?: string) => void lines.push(message ?? ''), warn: (_: object, message?: string) => void lines.push(message ?? ''), error() {} };
};

/** A store with a priced SKU in stock, written through the command side. */
async function writeSomeStock(store: PostgresEventStore): Promise<void> {
  const commands = new CommandHandler(store);
  const context = () => ({ actor: null, correlationId: newId(), now: new Date() });
  const storeId = newId();
  const skuId = newId();
  await commands.handle(stores, storeStream(storeId), { type: 'OpenStore', storeId, name: 'Quay', code: null, address: null }, context());
  await commands.handle(skus, skuStream(skuId), { type: 'CreateSku', skuId, code: `C-${skuId.slice(-6)}`, name: 'Rope', category: null, unit: 'm', price: '2.50', lowStockThreshold: 1 }, context());
  await commands.handle(stockItems, stockItemStream(storeId, skuId), { type: 'AddStockItem', storeId, skuId, quantity: 8, lowStockThreshold: 1, storeStatus: 'open', skuExists: true }, context());
  await commands.handle(stockItems, stockItemStream(storeId, skuId), { type: 'AdjustStock', storeId, skuId, delta: -3, reason: 'sold', note: null }, context());
}

/**
 * What a database of the release before the dashboards holds: the read model projected
 * from every event, without the dashboard tables and without a fingerprint.
 */
async function makeOldReadModel({ db, store }: Context): Promise<void> {
  await db.pool.query(sql.unsafe`drop schema if exists read_model cascade`);
  await ensureReadModelSchema(db.url);
  const events = await store.readAll({ after: 0n, maxCount: 10_000 });
  await new PostgresProjector({ pool: db.pool, store, projections: readModelProjections }).applyBatch({ events, partition: 0, through: events.at(-1)!.position });
  for (const table of ['store_totals', 'movements_daily', 'sku_movements_hourly', 'schema_fingerprint']) {
    await db.pool.query(sql.unsafe`drop table ${sql.identifier(['read_model', table])}`);
  }
}

const value = async (db: TestDatabase) => z.string().parse(await db.pool.oneFirst(sql.unsafe`select sum(stock_value)::text from read_model.store_totals`));

test.before(async (context) => {
  context.db = await createTestDatabase('rm_upgrade');
  context.store = new PostgresEventStore(context.db.pool);
  await writeSomeStock(context.store);
});
test.after(async ({ db }) => db.drop());

test('a new database: created, with the fingerprint of this schema.sql', async (context) => {
  const log = logs();
  await context.db.pool.query(sql.unsafe`drop schema if exists read_model cascade`);
  assert.is(await ensureCurrentReadModel({ databaseUrl: context.db.url, pool: context.db.pool, store: context.store, projections: readModelProjections, log, projects: true }), 'created');
  assert.is(await storedFingerprint(context.db.pool), await schemaFingerprint());
  assert.is(await ensureCurrentReadModel({ databaseUrl: context.db.url, pool: context.db.pool, store: context.store, projections: readModelProjections, log, projects: true }), 'current');
});

test('a process that only reads leaves an old read model alone and says so', async (context) => {
  await makeOldReadModel(context);
  const log = logs();
  assert.is(await ensureCurrentReadModel({ databaseUrl: context.db.url, pool: context.db.pool, store: context.store, projections: readModelProjections, log, projects: false }), 'outdated');
  assert.is(await storedFingerprint(context.db.pool), null);
  assert.match(log.lines.join('\n'), /another release/);
});

test('two projector replicas starting on an old read model: one rebuilds it, logging progress; the other waits and finds it current', async (context) => {
  await makeOldReadModel(context);
  const [first, second] = [logs(), logs()];
  const states = await Promise.all(
    [first, second].map((log) => ensureCurrentReadModel({ databaseUrl: context.db.url, pool: context.db.pool, store: context.store, projections: readModelProjections, log, projects: true })),
  );
  assert.equal([...states].sort(), ['current', 'rebuilt']);
  assert.is(await storedFingerprint(context.db.pool), await schemaFingerprint());
  assert.is(await value(context.db), '12.50', 'the new tables are filled from the events: 5 x 2.50');
  const rebuilder = states[0] === 'rebuilt' ? first : second;
  assert.match(rebuilder.lines.join('\n'), /rebuild 100\.0%/);
  assert.ok(
    Number(await context.db.pool.oneFirst(sql.unsafe`select min(through) from read_model.progress`)) > 0,
    'the progress of the old read model is kept: the projector goes on from there',
  );
});

test('startBackground with the projector role upgrades the read model before projecting', async (context) => {
  await makeOldReadModel(context);
  const config = loadConfig({ NODE_ENV: 'test', ROLES: 'projector', JWT_SECRET: 'x'.repeat(40) });
  const log = logs();
  const background = await startBackground({ config, pool: context.db.pool, databaseUrl: context.db.url, eventStore: context.store, bus: new InProcessBus(), log });
  try {
    assert.is(await storedFingerprint(context.db.pool), await schemaFingerprint());
    assert.is(await value(context.db), '12.50');
  } finally {
    await background.stop();
  }
});

test.run();
