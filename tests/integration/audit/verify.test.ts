import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { verify } from '../../../src/ops/verify/run.js';
import { chainHash, chainSeed } from '../../../src/shared/event-store/chain.js';
import type { Redis } from '../../../src/shared/redis.js';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, sleep } from '../../support/http-assertions.js';
import { prefixedRedis, sharedRedisUrl } from '../redis/support.js';

interface Context {
  harness: Harness;
  redis: Redis;
  prefix: string;
  cleanup(): Promise<void>;
  manager: Client;
  storeId: string;
  skuId: string;
  itemUrl: string;
  stream: string;
}

const test = suite<Context>('audit: npm run verify');

const run = (context: Context, against?: string) =>
  verify({ pool: context.harness.db.pool, store: context.harness.eventStore, redis: context.redis, ...(against ? { against } : {}) });

/** Both read models have applied everything written so far. */
async function settled(context: Context): Promise<void> {
  const head = await context.harness.eventStore.headPosition();
  for (let waited = 0; ; waited += 25) {
    const pg = await context.harness.db.pool.oneFirst(sql.unsafe`select coalesce(min(through), 0)::bigint from read_model.progress`);
    const hot = Object.values(await context.redis.hgetall('progress')).map(BigInt);
    if (typeof pg === 'bigint' && pg >= head && hot.length > 0 && hot.every((through) => through >= head)) return;
    if (waited > 20_000) throw new Error('the projectors did not catch up');
    await sleep(25);
  }
}

test.before(async (context) => {
  const { client, prefix, cleanup } = await prefixedRedis(sharedRedisUrl, 'verify');
  Object.assign(context, { redis: client, prefix, cleanup });
  context.harness = await startHarness('verify', {}, { projections: true, redis: client });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId, itemUrl, staff } = await seedStore(context.harness, context.manager, 10);
  Object.assign(context, { storeId, skuId, itemUrl, stream: `stockitem-${storeId}_${skuId}` });
  assertWritten(await staff.patch(itemUrl, { delta: -2, reason: 'sold' }));
  assertWritten(await context.manager.patch(itemUrl, { delta: 5, reason: 'received' }));
  assertWritten(await staff.patch(itemUrl, { countedQuantity: 12 }));
  await settled(context);
});
test.after(async (context) => {
  await context.harness.close();
  await context.cleanup();
});

test('every event carries a hash chained to the one before it, from the stream seed', async ({ harness, stream }) => {
  const events = await harness.eventStore.readStream(stream);
  let previous = chainSeed(stream);
  for (const event of events) {
    assert.match(event.metadata.hash ?? '', /^[0-9a-f]{64}$/);
    assert.is(event.metadata.hash, chainHash(previous, event));
    previous = event.metadata.hash!;
  }
});

test('clean: no difference, a root, and the cluster report shows the run', async (context) => {
  const report = await run(context);
  assert.equal(report.differences, []);
  assert.match(report.root, /^\d+:[0-9a-f]{64}$/);
  assert.ok(report.events > 10 && report.streams > 5);
  const cluster = await context.manager.get('/api/reports/cluster');
  assert.is(cluster.statusCode, 200, cluster.body);
  const last = cluster.json<{ lastVerify: { root: string; differences: number; events: number } | null }>().lastVerify;
  assert.equal(last && { root: last.root, differences: last.differences, events: last.events }, { root: report.root, differences: 0, events: report.events });
});

test('a stock row altered by hand in PostgreSQL is found, with stream, expected and found', async (context) => {
  const { harness, storeId, skuId, stream } = context;
  await harness.db.pool.query(sql.unsafe`update read_model.stock set quantity = quantity + 5 where store_id = ${storeId} and sku_id = ${skuId}`);
  try {
    const report = await run(context);
    assert.equal(report.differences.map(({ stream: s, model, field, expected, found }) => ({ s, model, field, expected, found })), [
      { s: stream, model: 'postgres:stock', field: 'quantity', expected: 12, found: 17 },
    ]);
  } finally {
    await harness.db.pool.query(sql.unsafe`update read_model.stock set quantity = quantity - 5 where store_id = ${storeId} and sku_id = ${skuId}`);
  }
});

test('the ledger behind asOf, altered by hand, is found', async (context) => {
  const { harness, storeId, skuId, stream } = context;
  const newest = sql.unsafe`(select max(position) from read_model.stock_ledger where store_id = ${storeId} and sku_id = ${skuId})`;
  await harness.db.pool.query(sql.unsafe`update read_model.stock_ledger set quantity = 0 where store_id = ${storeId} and sku_id = ${skuId} and position = ${newest}`);
  try {
    const report = await run(context);
    assert.equal(report.differences.map(({ stream: s, model, field, expected, found }) => ({ s, model, field, expected, found })), [
      { s: stream, model: 'postgres:stock_ledger', field: 'quantity', expected: 12, found: 0 },
    ]);
  } finally {
    await harness.db.pool.query(sql.unsafe`update read_model.stock_ledger set quantity = 12 where store_id = ${storeId} and sku_id = ${skuId} and position = ${newest}`);
  }
});

test('an item altered by hand in Redis is found', async (context) => {
  const { redis, storeId, skuId, stream } = context;
  await redis.hset(`item:${storeId}:${skuId}`, 'lowStockThreshold', '99');
  try {
    const report = await run(context);
    assert.equal(report.differences.map(({ stream: s, model, field, expected, found }) => ({ s, model, field, expected, found })), [
      { s: stream, model: 'redis', field: 'lowStockThreshold', expected: 3, found: 99 },
    ]);
  } finally {
    await redis.hset(`item:${storeId}:${skuId}`, 'lowStockThreshold', '3');
  }
});

test('an event whose data was altered in the event store is found by its hash', async (context) => {
  const { harness, stream } = context;
  const pool = harness.db.pool;
  await pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{reason}', '"damaged"') where stream_id = ${stream} and revision = 1`);
  try {
    const report = await run(context);
    const found = report.differences.filter((d) => d.model === 'event store');
    assert.is(found.length, 1, JSON.stringify(report.differences));
    assert.equal([found[0]!.stream, found[0]!.revision, found[0]!.field], [stream, 1, 'hash']);
  } finally {
    await pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{reason}', '"sold"') where stream_id = ${stream} and revision = 1`);
  }
  assert.equal((await run(context)).differences, [], 'clean again once put back');
});

test('events whose order was altered in the event store are found', async (context) => {
  const { harness, stream } = context;
  const pool = harness.db.pool;
  const swap = () =>
    pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`update es_events set revision = -1 where stream_id = ${stream} and revision = 1`);
      await tx.query(sql.unsafe`update es_events set revision = 1 where stream_id = ${stream} and revision = 2`);
      await tx.query(sql.unsafe`update es_events set revision = 2 where stream_id = ${stream} and revision = -1`);
    });
  await swap();
  try {
    const report = await run(context);
    const found = report.differences.filter((d) => d.model === 'event store' && d.stream === stream);
    // The chain runs in position order, so a revision moved away from its place is what shows.
    assert.equal(found.map((d) => [d.field, d.expected, d.found]), [['revision', 1, 2], ['revision', 3, 1], ['revision', 2, 3]]);
  } finally {
    await swap();
  }
});

test('--against: a root still holds after more writes, and fails once an old event is rewritten with a recomputed chain', async (context) => {
  const { harness, stream, itemUrl, manager } = context;
  const pool = harness.db.pool;
  const { root } = await run(context);
  assertWritten(await manager.patch(itemUrl, { delta: 1, reason: 'returned' }));
  await settled(context);
  const later = await run(context, root);
  assert.equal(later.differences, []);
  assert.ok(later.against?.matches);
  assert.is.not(later.root, root, 'the head moved on');

  // A forger who can write the database changes an old event and recomputes the chain after it.
  const original = await harness.eventStore.readStream(stream);
  const forge = async (events: typeof original) => {
    let previous = chainSeed(stream);
    for (const event of events) {
      const { hash: _old, ...metadata } = event.metadata;
      const hash = chainHash(previous, { ...event, metadata });
      await pool.query(sql.unsafe`update es_events set data = ${JSON.stringify(event.data)}::jsonb, metadata = ${JSON.stringify({ ...metadata, hash })}::jsonb where event_id = ${event.id}`);
      previous = hash;
    }
  };
  const forged = original.map((event) => (event.revision === 1 ? { ...event, data: { ...(event.data as object), note: 'forged' } } : event));
  await forge(forged);
  try {
    const report = await run(context, root);
    assert.equal(report.differences.filter((d) => d.field !== 'root'), [], 'the chain itself looks whole');
    assert.is(report.against?.matches, false);
    assert.ok(report.differences.some((d) => d.field === 'root'));
  } finally {
    await forge(original);
  }
});

test('events written before the chain get a recorded starting hash; a later change to them is found', async (context) => {
  const { harness } = context;
  const pool = harness.db.pool;
  const storeId = randomUUID();
  const stream = `store-${storeId}`;
  const metadata = { actor: null, correlationId: 'before-the-chain', causationId: null, at: new Date().toISOString(), schemaVersion: 1 };
  await pool.query(sql.unsafe`insert into es_streams (stream_id, revision) values (${stream}, 0)`);
  await pool.query(sql.unsafe`
    insert into es_events (stream_id, revision, event_id, type, data, metadata)
    values (${stream}, 0, ${randomUUID()}, 'StoreOpened', ${JSON.stringify({ storeId, name: 'Old Town', code: null, address: null })}::jsonb, ${JSON.stringify(metadata)}::jsonb)`);
  await settled(context);
  const first = await run(context);
  assert.equal(first.differences, []);
  assert.is(first.startsRecorded, 1);
  await pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{name}', '"New Town"') where stream_id = ${stream}`);
  const second = await run(context);
  assert.equal(second.differences.filter((d) => d.model === 'event store').map((d) => [d.stream, d.field]), [[stream, 'starting hash']]);
  await pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{name}', '"Old Town"') where stream_id = ${stream}`);
});

test('npm run verify: exit 0 and a root when clean, exit 1 naming the difference otherwise', async (context) => {
  const { harness, storeId, skuId, prefix } = context;
  const cli = (args: string[] = []) =>
    promisify(execFile)('npx', ['tsx', 'src/ops/verify-cli.ts', '--redis-prefix', prefix, ...args], {
      env: { ...process.env, DATABASE_URL: harness.db.url, REDIS_URL: sharedRedisUrl, LOG_LEVEL: 'warn' },
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  const clean = await cli();
  assert.is(clean.code, 0, clean.stdout);
  assert.match(clean.stdout, /^root \d+:[0-9a-f]{64}$/m);
  await harness.db.pool.query(sql.unsafe`update read_model.stock set removed = true where store_id = ${storeId} and sku_id = ${skuId}`);
  try {
    const dirty = await cli();
    assert.is(dirty.code, 1, dirty.stdout);
    assert.match(dirty.stdout, /postgres:stock stockitem-\S+ revision \d+: removed expected false, found true/);
  } finally {
    await harness.db.pool.query(sql.unsafe`update read_model.stock set removed = false where store_id = ${storeId} and sku_id = ${skuId}`);
  }
});

test.run();
