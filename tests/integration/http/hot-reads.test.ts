import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisReadModel } from '../../../src/shared/hot-model/redis-read-model.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { RedisServer, waitFor } from '../redis/support.js';

/** Point reads come from Redis while it can answer, and from PostgreSQL, silently, while it cannot. */
const test = suite<{ server: RedisServer; redis: Redis; harness: Harness; manager: Client }>('HTTP: hot reads from Redis, PostgreSQL behind');

test.before(async (context) => {
  context.server = await RedisServer.start();
  context.redis = createRedis(context.server.url, { keyPrefix: 'stockroom-test:' });
  context.harness = await startHarness('hot', {}, { projections: true, redis: context.redis });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness, redis, server }) => {
  await harness.close();
  redis.disconnect();
  await server.kill();
});

test('a point read is served by Redis, and by PostgreSQL with the same answer when Redis is gone', async ({ harness, manager, redis, server }) => {
  const { storeId, skuId, itemUrl, staff } = await seedStore(harness, manager, 10);
  const sold = await staff.patch(itemUrl, { delta: -3, reason: 'sold' });
  const position = sold.json<{ position: string }>().position;
  const expected = { storeId, skuId, quantity: 7, lowStockThreshold: 3, revision: 1 };
  const reached = async (p: string) => ((await new RedisReadModel(redis).watermark()) ?? -1n) >= BigInt(p);
  await waitFor(() => reached(position), 'Redis caught up');

  // Proof that Redis answers: a value only Redis holds shows through the API.
  await redis.hset(`item:${storeId}:${skuId}`, 'quantity', '70');
  const fromRedis = await staff.get(itemUrl);
  assert.is(fromRedis.json<{ quantity: number }>().quantity, 70);
  await redis.hset(`item:${storeId}:${skuId}`, 'quantity', '7');

  await server.kill();
  const started = Date.now();
  const fromPostgres = await staff.get(itemUrl, { 'x-min-position': position });
  assert.is(fromPostgres.statusCode, 200, fromPostgres.body);
  assert.equal(fromPostgres.json(), expected);
  assert.ok(Date.now() - started < 1_000, 'no long wait on a dead Redis');

  // A token revoked while Redis is down stays refused, then and after Redis returns.
  await staff.post('/api/auth/logout');
  assert.is((await staff.get(itemUrl)).statusCode, 401);
  const more = await manager.patch(itemUrl, { delta: 5, reason: 'received' });
  await server.start();
  assert.is((await staff.get(itemUrl)).statusCode, 401);

  // Redis came back empty; its projector rebuilds it and reads come from it again.
  const latest = more.json<{ position: string }>().position;
  await waitFor(() => reached(latest), 'Redis rebuilt', 20_000);
  const after = await manager.get(itemUrl, { 'x-min-position': latest });
  assert.equal(after.json(), { ...expected, quantity: 12, revision: 2 });
});

test.run();
