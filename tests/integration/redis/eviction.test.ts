import { Redis as RawRedis } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisBackedDenylist, REVOKED_TOKENS_KEY } from '../../../src/shared/auth/redis-denylist.js';
import { newId } from '../../../src/shared/ids.js';
import { RedisProjector } from '../../../src/projections/redis/projector.js';
import type { BusBatch } from '../../../src/shared/event-bus/port.js';
import { RedisReadModel } from '../../../src/shared/hot-model/redis-read-model.js';
import { createRedis, type Redis, RedisMayEvict } from '../../../src/shared/redis.js';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';
import { createTestDatabase } from '../../support/database.js';
import { batchOf, prefixedRedis, RedisServer, sharedRedisUrl, stockWorld, testPrefix, waitReady } from './support.js';

/**
 * Redis run as a cache (maxmemory with allkeys-lru, as managed Redis often is) forgets keys
 * while the connection stays up. Revocation and the hot read model must not follow it.
 */
interface Context {
  server: RedisServer;
  prefix: string;
  redis: Redis;
  raw: RawRedis;
  harness: Harness;
}

const test = suite<Context>('redis: a Redis that evicts is never taken as complete');

test.before(async (context) => {
  context.server = await RedisServer.start(['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru']);
  context.prefix = testPrefix('evict');
  context.redis = createRedis(context.server.url, { keyPrefix: context.prefix, commandTimeoutMs: 2_000, connectTimeoutMs: 500 });
  context.raw = new RawRedis(context.server.url, { maxRetriesPerRequest: 1 });
  await waitReady(context.redis);
  context.harness = await startHarness('evict', {}, { redis: context.redis });
});

test.after(async ({ harness, redis, raw, server }) => {
  await harness.close();
  redis.disconnect();
  raw.disconnect();
  await server.kill();
});

/**
 * Writes filler keys until `gone` holds (checked with EXISTS, which does not count as a use
 * for LRU) while `keepHot` keys are read between rounds, as live traffic would. Bounded.
 */
async function fillUntil(raw: RawRedis, gone: () => Promise<boolean>, keepHot: readonly string[] = []): Promise<void> {
  const filler = 'x'.repeat(10_000);
  for (let round = 0; round < 400; round += 1) {
    if (await gone()) return;
    const pipeline = raw.pipeline();
    for (let i = 0; i < 50; i += 1) pipeline.set(`filler:${round}:${i}`, filler);
    for (const key of keepHot) pipeline.type(key);
    await pipeline.exec();
  }
  throw new Error('Redis did not evict what the test waited for');
}

test('after logout, filling Redis until it evicts the denylist: the revoked token stays refused', async ({ harness, prefix, raw }) => {
  const staff = await login(harness, ADMIN.username, ADMIN.password);
  assert.is((await staff.get('/api/auth/me')).statusCode, 200);
  assert.is((await staff.post('/api/auth/logout')).statusCode, 204);
  assert.is((await staff.get('/api/auth/me')).statusCode, 401);

  await fillUntil(raw, async () => (await raw.exists(`${prefix}${REVOKED_TOKENS_KEY}`)) === 0);
  assert.ok(Number(/evicted_keys:(\d+)/.exec(await raw.info('stats'))?.[1]) > 0, 'Redis evicted keys');
  for (let i = 0; i < 5; i += 1) assert.is((await staff.get('/api/auth/me')).statusCode, 401);
});

test('progress evicted from the hot model: it never claims a position a partition has not applied', async ({ server, raw }) => {
  const world = await stockWorld('evictmodel');
  const { client, prefix, cleanup } = await prefixedRedis(server.url, 'evictmodel');
  const projector = new RedisProjector(client, world.store);
  const model = new RedisReadModel(client);
  // On a Redis that may evict, the projector refuses to build the model at all.
  const apply = (batch: BusBatch) => projector.applyBatch(batch).catch((error: unknown) => assert.instance(error, RedisMayEvict));
  try {
    await projector.registerPartitions(2);
    const a = await world.addItem(10, 1);
    const b = await world.addItem(10, 1);
    await apply(batchOf(await world.store.readStream(a.streamId)));
    await apply({ ...batchOf(await world.store.readStream(b.streamId)), partition: 1 });

    // A sale on partition 0, not applied yet (that partition lags); then Redis evicts the
    // progress hash while the marker and the item stay in use; then partition 1 moves on.
    const sold = await world.run(a, { type: 'AdjustStock', delta: -4, reason: 'sold', note: null });
    const soldAt = sold.at(-1)?.position ?? 0n;
    await fillUntil(raw, async () => (await raw.exists(`${prefix}progress`)) === 0, [`${prefix}meta`, `${prefix}item:${a.storeId}:${a.skuId}`]);
    await apply({ ...batchOf(await world.run(b, { type: 'AdjustStock', delta: 1, reason: 'received', note: null })), partition: 1 });

    // A reader with X-Min-Position at the sale would now read the item from Redis, before it.
    const watermark = await model.watermark();
    assert.ok(watermark === undefined || watermark === null || watermark < soldAt, `watermark ${watermark} is past the unapplied sale at ${soldAt}`);
  } finally {
    await cleanup();
    await world.db.drop();
  }
});

test('the denylist set deleted between two checks (as eviction or a flush does): refused by the next request', async () => {
  const db = await createTestDatabase('evictdeny');
  const { client, cleanup } = await prefixedRedis(sharedRedisUrl, 'evictdeny');
  // No periodic check: only the answer itself can notice.
  const denylist = new RedisBackedDenylist({ pool: db.pool, redis: client, checkIntervalMs: 0 });
  try {
    const jti = newId();
    await denylist.revoke(jti, new Date(Date.now() + 3_600_000));
    await denylist.sync();
    assert.ok(denylist.inSync, 'Redis is trusted');
    assert.is(await denylist.isRevoked(jti), true);

    await client.del(REVOKED_TOKENS_KEY);
    assert.is(await denylist.isRevoked(jti), true, 'refused although Redis lost the set');
    // A later revocation recreates the set with one member: still not taken as the whole copy.
    await denylist.revoke(newId(), new Date(Date.now() + 3_600_000));
    assert.is(await denylist.isRevoked(jti), true);
    await denylist.sync();
    assert.ok(denylist.inSync, 'trusted again once copied');
    assert.is(await denylist.isRevoked(jti), true);
  } finally {
    denylist.close();
    await cleanup();
    await db.drop();
  }
});

test('a Redis that may evict is not trusted by the denylist at all', async ({ redis, harness }) => {
  const denylist = new RedisBackedDenylist({ pool: harness.db.pool, redis, checkIntervalMs: 0 });
  try {
    await denylist.sync();
    assert.is(denylist.inSync, false);
  } finally {
    denylist.close();
  }
});

test.run();
