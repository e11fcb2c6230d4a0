import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { itemFields, keys } from '../../../src/shared/hot-model/keys.js';
import { RedisReadModel } from '../../../src/shared/hot-model/redis-read-model.js';
import { newId } from '../../../src/shared/ids.js';
import { type Redis, serverRunId } from '../../../src/shared/redis.js';
import { prefixedRedis, sharedRedisUrl } from './support.js';

/**
 * The point reads of one turn of the event loop are read by one script (redis-read-model.ts):
 * each caller must still get its own item, and the model's completeness decides for all.
 */
interface Context {
  redis: Redis;
  cleanup(): Promise<void>;
}

const test = suite<Context>('redis: point reads asked together are answered each with its own item');

test.before(async (context) => {
  const { client, cleanup } = await prefixedRedis(sharedRedisUrl, 'pointreads');
  context.redis = client;
  context.cleanup = cleanup;
});
test.after(async ({ cleanup }) => cleanup());

const storeId = newId();
const skus = Array.from({ length: 600 }, () => newId());
/** Every third item absent, every fifth present but removed, the others present with their own numbers. */
const expected = (index: number) =>
  index % 3 === 0 ? null : index % 5 === 0 ? null : { storeId, skuId: skus[index]!, quantity: index, lowStockThreshold: index % 7, revision: index + 1 };

test('600 reads at once (three scripts): each answer is its own item, absent and removed items null', async ({ redis }) => {
  const multi = redis.multi();
  skus.forEach((skuId, index) => {
    if (index % 3 === 0) return;
    multi.hset(keys.item(storeId, skuId), { quantity: index, lowStockThreshold: index % 7, removed: index % 5 === 0 ? 1 : 0, revision: index + 1, position: index });
  });
  multi.hset(keys.meta, 'runId', await serverRunId(redis));
  await multi.exec();

  const model = new RedisReadModel(redis);
  const answers = await Promise.all(skus.map((skuId) => model.item(storeId, skuId)));
  answers.forEach((answer, index) => assert.equal(answer, expected(index), `item ${index}`));
  // Asked one at a time, the same answers.
  for (const index of [1, 2, 3, 5, 599]) assert.equal(await model.item(storeId, skus[index]!), expected(index), `item ${index} alone`);
});

test('a model that is not complete on this server answers none of them: PostgreSQL does', async ({ redis }) => {
  await redis.hset(keys.meta, 'runId', 'another-server');
  try {
    const model = new RedisReadModel(redis);
    const answers = await Promise.all(skus.slice(0, 20).map((skuId) => model.item(storeId, skuId)));
    assert.equal(answers, new Array(20).fill(undefined));
  } finally {
    await redis.hset(keys.meta, 'runId', await serverRunId(redis));
  }
});

test('a model without its marker (a Redis emptied of it) answers none of them', async ({ redis }) => {
  await redis.hdel(keys.meta, 'runId');
  try {
    const model = new RedisReadModel(redis);
    assert.equal(await Promise.all([model.item(storeId, skus[1]!), model.item(storeId, skus[3]!)]), [undefined, undefined]);
  } finally {
    await redis.hset(keys.meta, 'runId', await serverRunId(redis));
  }
});

test('a malformed hash is not answered; the items read with it are', async ({ redis }) => {
  const bad = newId();
  await redis.hset(keys.item(storeId, bad), { quantity: 'x', lowStockThreshold: 1, removed: 0, revision: 1, position: 1 });
  const model = new RedisReadModel(redis);
  const [good, malformed] = await Promise.all([model.item(storeId, skus[1]!), model.item(storeId, bad)]);
  assert.equal(good, expected(1));
  assert.is(malformed, undefined);
});

test('the fields of a hash: checked as the zod schema of a whole hash checks them', () => {
  assert.is(itemFields([null, null, null, null]), null);
  assert.equal(itemFields(['3', '0', '1', '12']), { quantity: 3, lowStockThreshold: 0, removed: true, revision: 12 });
  for (const reply of [
    ['3', null, '0', '1'],
    ['-3', '0', '0', '1'],
    ['3.5', '0', '0', '1'],
    ['3', '0', '2', '1'],
    ['3', '0', '0', ''],
    ['99999999999999999999', '0', '0', '1'],
    ['3', '0', '0'],
    ['3', '0', '0', '1', '5'],
    [3, '0', '0', '1'],
    null,
    'x',
  ]) {
    assert.throws(() => itemFields(reply), undefined, JSON.stringify(reply));
  }
});

test.run();
