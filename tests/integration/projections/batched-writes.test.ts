import { randomUUID } from 'node:crypto';
import { createPool, createTypeParserPreset, type DatabasePool, sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { BatchedWrites, readTexts } from '../../../src/projections/postgres/batched-writes.js';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import type { EventToAppend } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { skuStream, stockItemStream, storeStream } from '../../../src/shared/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A live batch's writes wait for its next read and go as one call of prepared statements
 * (read_model_write_batch), their values written in as literals: what reaches the table is
 * what the bound statement would have written, whatever the text holds, and a batch takes a
 * handful of statements rather than twenty.
 */
const test = suite<{ db: TestDatabase; counted: DatabasePool; statements: string[] }>('projections: batched writes');

test.before(async (context) => {
  context.db = await createTestDatabase('batched_writes');
  await ensureReadModelSchema(context.db.url);
  context.statements = [];
  context.counted = await createPool(context.db.url, {
    typeParsers: createTypeParserPreset(),
    resetConnection: async () => {},
    dangerouslyAllowForeignConnections: true,
    interceptors: [
      {
        name: 'count statements',
        beforeQueryExecution: (_context, query) => {
          context.statements.push(query.sql);
          return null;
        },
      },
    ],
  });
  await context.db.pool.query(sql.unsafe`create table odd (id int primary key, t text, ts text[], n bigint, b boolean, j jsonb)`);
});
test.after(async ({ db, counted }) => {
  await counted.end();
  await db.drop();
});

const awkward = [`it's`, 'back\\slash', 'a "quote"', '$batch$ end $batch$; drop table odd; --', '{braces}, commas', 'ünï€ode', ''];

test('values written in as literals reach the table as the bound statement writes them', async ({ db }) => {
  const insert = (id: number, text: string) =>
    sql.unsafe`insert into odd (id, t, ts, n, b, j) values (${id}, ${text}, ${sql.array([text, 'x', null as unknown as string], 'text')}, ${9007199254740993n.toString()}, ${true}, ${JSON.stringify({ text })}::jsonb)`;
  await db.pool.transaction(async (tx) => {
    const writes = new BatchedWrites(tx);
    for (const [index, text] of awkward.entries()) {
      await writes.connection.query(insert(index, text));
      await tx.query(insert(100 + index, text)); // the same, bound
    }
    // A read sees what was queued before it.
    const seen = await writes.connection.oneFirst(sql.unsafe`select count(*) from odd where id < 100`);
    assert.is(seen, BigInt(awkward.length));
  });
  const rows = await db.pool.any(sql.unsafe`select a.id, row(a.t, a.ts, a.n, a.b, a.j) is not distinct from row(b.t, b.ts, b.n, b.b, b.j) as same from odd a join odd b on b.id = a.id + 100`);
  assert.is(rows.length, awkward.length);
  for (const row of rows) assert.ok(row['same'], `row ${String(row['id'])} differs from the bound one`);
});

test('a failing queued write fails the transaction at the flush, and nothing of it stays', async ({ db }) => {
  const failed = await db.pool
    .transaction(async (tx) => {
      const writes = new BatchedWrites(tx);
      await writes.connection.query(sql.unsafe`insert into odd (id, t) values (1000, 'kept?')`);
      await writes.connection.query(sql.unsafe`insert into odd (id, t) values (0, 'duplicate')`);
      await writes.flush();
    })
    .then(
      () => null,
      (error: unknown) => error,
    );
  assert.ok(failed instanceof Error, 'the flush fails');
  assert.is(await db.pool.oneFirst(sql.unsafe`select count(*) from odd where id = 1000`), 0n);
});

test('a read of texts goes with the writes queued before it, in one round trip, and sees them', async ({ counted, statements }) => {
  await counted.transaction(async (tx) => {
    const writes = new BatchedWrites(tx);
    for (const [index, text] of awkward.entries()) await writes.connection.query(sql.unsafe`insert into odd (id, t) values (${200 + index}, ${text})`);
    statements.length = 0;
    const read = await readTexts(writes.connection, sql.unsafe`select t from odd where id >= ${200} and id < ${300} order by id`);
    assert.equal(read, awkward);
    assert.is(statements.length, 1, statements.join('\n---\n'));
    // Nothing queued: an ordinary read.
    assert.equal(await readTexts(writes.connection, sql.unsafe`select t from odd where id = ${200}`), [awkward[0]]);
    assert.equal(await readTexts(tx, sql.unsafe`select t from odd where id = ${201}`), [awkward[1]]);
  });
});

const event = (type: string, data: unknown): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 },
});

test('a live batch with a stock movement takes a handful of statements, not one per write', async ({ db, counted, statements }) => {
  const store = new PostgresEventStore(db.pool);
  const storeId = randomUUID();
  const skuId = randomUUID();
  await store.append(storeStream(storeId), [event('StoreOpened', { storeId, name: 'Shop', code: null, address: null })], 'no_stream');
  await store.append(skuStream(skuId), [event('SkuCreated', { skuId, code: 'BW-1', name: 'Bolt', category: null, unit: 'pc', price: '2.50', lowStockThreshold: 2 })], 'no_stream');
  await store.append(stockItemStream(storeId, skuId), [event('StockItemAdded', { storeId, skuId, quantity: 5, lowStockThreshold: 2 })], 'no_stream');
  const events = await store.readAll({ after: 0n, maxCount: 10 });
  const projector = new PostgresProjector({ pool: counted, store, projections: readModelProjections });
  await projector.applyBatch({ events: events.slice(0, 2), partition: 0, through: events[1]!.position });
  statements.length = 0;
  await projector.applyBatch({ events: events.slice(2), partition: 0, through: events[2]!.position });
  // The locks, the stuck-stream guard and the rows in one, then every write: seventeen before.
  assert.ok(statements.length <= 2, `${statements.length} statements:\n${statements.join('\n---\n')}`);
  const stock = await db.pool.one(sql.unsafe`select quantity, revision from read_model.stock where store_id = ${storeId} and sku_id = ${skuId}`);
  assert.equal(stock, { quantity: 5n, revision: 0n });
  const totals = await db.pool.one(sql.unsafe`select items, units, stock_value::text as value from read_model.store_totals where store_id = ${storeId}`);
  assert.equal(totals, { items: 1, units: 5n, value: '12.50' });
  const ledger = z.bigint().parse(await db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stock_ledger where sku_id = ${skuId}`));
  assert.is(ledger, 1n);
  assert.is(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`), events[2]!.position);
});

test('a live batch carrying a stuck stream is applied again reading which are stuck: the others move on, the stuck one waits', async ({ db }) => {
  const store = new PostgresEventStore(db.pool);
  const storeId = randomUUID();
  const [stuckSku, otherSku] = [randomUUID(), randomUUID()];
  const stuckStream = stockItemStream(storeId, stuckSku);
  const otherStream = stockItemStream(storeId, otherSku);
  await store.append(storeStream(storeId), [event('StoreOpened', { storeId, name: 'Shop', code: null, address: null })], 'no_stream');
  for (const skuId of [stuckSku, otherSku]) {
    await store.append(skuStream(skuId), [event('SkuCreated', { skuId, code: `BW-${skuId.slice(0, 6)}`, name: 'Nut', category: null, unit: 'pc', price: '1.00', lowStockThreshold: 2 })], 'no_stream');
  }
  // Unreadable: the stream is marked stuck at its first event.
  await store.append(stuckStream, [event('StockItemAdded', { storeId, skuId: stuckSku, quantity: 'lots', lowStockThreshold: 2 })], 'no_stream');
  await store.append(otherStream, [event('StockItemAdded', { storeId, skuId: otherSku, quantity: 5, lowStockThreshold: 2 })], 'no_stream');
  const stuckSeen: string[] = [];
  const projector = new PostgresProjector({ pool: db.pool, store, projections: readModelProjections, onStuck: (failure) => stuckSeen.push(failure.event.streamId) });
  const seed = await store.readAll({ after: 0n, maxCount: 100 });
  const seeded = seed.filter((recorded) => recorded.streamId !== otherStream);
  await projector.applyBatch({ events: seeded, partition: 0, through: seeded.at(-1)!.position });
  assert.equal(stuckSeen, [stuckStream]);
  const attempts = () => db.pool.oneFirst(sql.unsafe`select attempts from read_model.stuck_streams where stream_id = ${stuckStream}`);
  const attemptsBefore = await attempts();

  await store.append(stuckStream, [event('StockAdjusted', { delta: -1, reason: 'sold', note: null, reference: null, quantityAfter: 1 })], 0);
  const later = (await store.readAll({ after: 0n, maxCount: 100 })).filter((recorded) => recorded.streamId === otherStream || recorded.revision === 1);
  const through = later.at(-1)!.position;
  await projector.applyBatch({ events: later, partition: 0, through });

  assert.equal(stuckSeen, [stuckStream], 'a stream stuck already is skipped, not marked again');
  assert.is(await attempts(), attemptsBefore);
  const stock = await db.pool.any(sql.unsafe`select sku_id, quantity from read_model.stock where store_id = ${storeId}`);
  assert.equal(stock, [{ sku_id: otherSku, quantity: 5n }]);
  assert.is(await db.pool.oneFirst(sql.unsafe`select through from read_model.progress where partition = 0`), through);
});

test.run();
