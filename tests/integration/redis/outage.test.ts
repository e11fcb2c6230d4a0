import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisProjector } from '../../../src/projections/redis/projector.js';
import { RedisReadModel } from '../../../src/shared/hot-model/redis-read-model.js';
import { startRedisProjector } from '../../../src/projections/redis/run.js';
import { InProcessBus } from '../../../src/shared/event-bus/in-process.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { quietLog } from '../../support/pipeline.js';
import { batchOf, readyProjector, RedisServer, type StockWorld, stockWorld, testPrefix, waitFor, waitReady } from './support.js';

interface Context {
  world: StockWorld;
  server: RedisServer;
  clients: Redis[];
}

const test = suite<Context>('redis: an outage of Redis costs no correctness');

test.before(async (context) => {
  context.world = await stockWorld('redisoutage');
  context.server = await RedisServer.start();
  context.clients = [];
});

test.after(async ({ world, server, clients }) => {
  for (const client of clients) client.disconnect();
  await server.kill();
  await world.db.drop();
});

/** A client as production makes it (200 ms timeouts), on a prefix of its own. */
async function client(context: Context, label: string): Promise<Redis> {
  const redis = createRedis(context.server.url, { keyPrefix: testPrefix(label) });
  context.clients.push(redis);
  await waitReady(redis);
  return redis;
}

type Item = { storeId: string; skuId: string };

/** The read model agrees with the event store on every item, and on which of them are low. */
async function assertTruth(model: RedisReadModel, world: StockWorld, items: readonly Item[]): Promise<void> {
  const low: string[] = [];
  for (const { storeId, skuId } of items) {
    const truth = await world.truth({ storeId, skuId });
    const expected = truth.present ? { storeId, skuId, quantity: truth.quantity, lowStockThreshold: truth.lowStockThreshold, revision: truth.revision } : null;
    assert.equal(await model.item(storeId, skuId), expected, `item ${storeId}:${skuId}`);
    if (truth.present && truth.quantity <= truth.lowStockThreshold) low.push(`${storeId}:${skuId}`);
  }
  const known = new Set(items.map(({ storeId, skuId }) => `${storeId}:${skuId}`));
  const lowInModel = ((await model.lowStock()) ?? []).map((row) => `${row.storeId}:${row.skuId}`).filter((id) => known.has(id));
  assert.equal(lowInModel.sort(), low.sort(), 'low stock');
}

async function timed<T>(read: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await read();
  return { value, ms: performance.now() - started };
}

test('the read model answers undefined at once while Redis is down, and right values when it is up', async (context) => {
  const { world, server } = context;
  const redis = await client(context, 'read');
  const projector = await readyProjector(redis, world);
  const model = new RedisReadModel(redis, { pauseAfterFailureMs: 0 });
  const item = await world.addItem(3, 5);
  await projector.applyBatch(batchOf(await world.store.readStream(item.streamId)));
  const expected = { ...item, quantity: 3, lowStockThreshold: 5, revision: 0 };
  const { streamId: _, ...row } = expected;
  assert.equal(await model.item(item.storeId, item.skuId), row);

  await server.kill();
  // At once, before the client has even noticed, and after.
  for (const moment of ['just killed', 'noticed']) {
    if (moment === 'noticed') await waitFor(() => redis.status !== 'ready', 'the client to notice');
    const reads: (() => Promise<unknown>)[] = [
      () => model.item(item.storeId, item.skuId),
      () => model.storeItems(item.storeId),
      () => model.lowStock(item.storeId),
      () => model.lowStock(),
      () => model.watermark(),
    ];
    for (const read of reads) {
      const { value, ms } = await timed(read);
      assert.is(value, undefined, moment);
      assert.ok(ms < 300, `${moment}: answered in ${ms.toFixed(0)} ms`);
    }
  }

  await server.start();
  await waitReady(redis);
  // Back but empty: "unknown", never "no such item".
  assert.is(await model.item(item.storeId, item.skuId), undefined);
  assert.is(await model.watermark(), undefined);
  // The next batch rebuilds the model from the event store, then it answers again.
  const sold = await world.run(item, { type: 'AdjustStock', delta: -1, reason: 'sold', note: null });
  await projector.applyBatch(batchOf(sold));
  assert.equal(await model.item(item.storeId, item.skuId), { ...row, quantity: 2, revision: 1 });
  assert.equal(await model.storeItems(item.storeId), [{ ...row, quantity: 2, revision: 1 }]);
  assert.equal(await model.lowStock(item.storeId), [{ ...row, quantity: 2, revision: 1 }]);
  assert.is(await model.watermark(), sold.at(-1)?.position);
});

test('a Redis that hangs costs one read its 200 ms timeout, then reads skip it until it answers again', async (context) => {
  const { world, server } = context;
  const redis = await client(context, 'hang');
  const projector = await readyProjector(redis, world);
  const model = new RedisReadModel(redis, { pauseAfterFailureMs: 500 });
  const item = await world.addItem(7, 1);
  await projector.applyBatch(batchOf(await world.store.readStream(item.streamId)));
  const { streamId: _, ...ids } = item;
  const row = { ...ids, quantity: 7, lowStockThreshold: 1, revision: 0 };
  assert.equal(await model.item(item.storeId, item.skuId), row);
  server.pause();
  try {
    const first = await timed(() => model.item(item.storeId, item.skuId));
    assert.is(first.value, undefined);
    assert.ok(first.ms < 300, `the first read waited ${first.ms.toFixed(0)} ms`);
    const second = await timed(() => model.storeItems(item.storeId));
    assert.is(second.value, undefined);
    assert.ok(second.ms < 20, `the next read waited ${second.ms.toFixed(0)} ms`);
  } finally {
    server.resume();
  }
  await waitFor(async () => (await model.item(item.storeId, item.skuId)) !== undefined, 'reads to use Redis again', 5_000);
  assert.equal(await model.item(item.storeId, item.skuId), row);
});

test('batches fail while Redis is down; re-applied after it comes back empty, the model equals the event store', async (context) => {
  const { world, server } = context;
  const redis = await client(context, 'restart');
  const projector = await readyProjector(redis, world);
  const model = new RedisReadModel(redis, { pauseAfterFailureMs: 0 });
  const untouched = await world.addItem(8, 2);
  const busy = await world.addItem(20, 5);
  const removed = await world.addItem(4, 1);
  for (const item of [untouched, busy, removed]) await projector.applyBatch(batchOf(await world.store.readStream(item.streamId)));
  await assertTruth(model, world, [untouched, busy, removed]);

  await server.kill();
  const failed: RecordedEvent[][] = [];
  const fresh = await world.addItem(1, 3);
  failed.push(await world.store.readStream(fresh.streamId));
  failed.push(await world.run(busy, { type: 'AdjustStock', delta: -16, reason: 'sold', note: null }));
  failed.push(await world.run(removed, { type: 'RemoveStockItem' }));
  failed.push(await world.run(busy, { type: 'ChangeLowStockThreshold', lowStockThreshold: 3 }));
  for (const events of failed) {
    const started = performance.now();
    await projector.applyBatch(batchOf(events)).then(
      () => assert.unreachable('a batch cannot be applied while Redis is down'),
      (error: unknown) => assert.instance(error, Error),
    );
    assert.ok(performance.now() - started < 1_000, 'fails fast');
  }

  await server.start();
  await waitReady(redis);
  // The bus delivers the same batches again, in order.
  for (const events of failed) await projector.applyBatch(batchOf(events));
  await assertTruth(model, world, [untouched, busy, removed, fresh]);
  assert.ok(((await model.watermark()) ?? 0n) >= (failed.at(-1)?.at(-1)?.position ?? 1n));
});

test('through the bus, the projector catches up by itself when Redis returns', async (context) => {
  const { world, server } = context;
  const redis = await client(context, 'bus');
  const bus = new InProcessBus();
  const subscription = await startRedisProjector({ bus, redis, store: world.store, log: quietLog, group: 'redis-test' });
  const model = new RedisReadModel(redis, { pauseAfterFailureMs: 0 });
  try {
    const first = await world.addItem(6, 2);
    const events = await world.store.readStream(first.streamId);
    await bus.publish(events, events.at(-1)?.position ?? 0n);
    await waitFor(async () => ((await model.watermark()) ?? -1n) >= (events.at(-1)?.position ?? 0n), 'the first batch');

    await server.kill();
    const second = await world.addItem(2, 2);
    const later = [...(await world.run(first, { type: 'AdjustStock', delta: -5, reason: 'sold', note: null })), ...(await world.store.readStream(second.streamId))];
    const through = later.reduce((max, event) => (event.position > max ? event.position : max), 0n);
    await bus.publish(later, through);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few failed deliveries
    await server.start();
    await waitFor(async () => ((await model.watermark()) ?? -1n) >= through, 'the projector to catch up', 15_000);
    await assertTruth(model, world, [first, second]);
  } finally {
    await subscription.stop();
    await bus.close();
  }
});

test('two projectors sharing the model after a restart: one rebuilds, the other waits, neither skips', async (context) => {
  const { world, server } = context;
  const redis = await client(context, 'pair');
  const a = await readyProjector(redis, world);
  const b = new RedisProjector(redis, world.store);
  const model = new RedisReadModel(redis, { pauseAfterFailureMs: 0 });
  const items = await Promise.all(Array.from({ length: 6 }, (_, index) => world.addItem(10 + index, 4)));
  for (const item of items) await a.applyBatch(batchOf(await world.store.readStream(item.streamId)));
  await server.kill();
  await server.start();
  await waitReady(redis);
  const batches = await Promise.all(items.map((item, index) => world.run(item, { type: 'AdjustStock', delta: -(index + 1), reason: 'sold', note: null })));
  // Both get batches at once; whichever cannot apply throws and gets it again later.
  const pending = batches.map((events, index) => ({ projector: index % 2 === 0 ? a : b, events }));
  for (let round = 0; pending.length > 0 && round < 50; round += 1) {
    const results = await Promise.allSettled(pending.map(({ projector, events }) => projector.applyBatch(batchOf(events))));
    for (let index = results.length - 1; index >= 0; index -= 1) if (results[index]?.status === 'fulfilled') pending.splice(index, 1);
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.is(pending.length, 0);
  await assertTruth(model, world, items);
});

test.run();
