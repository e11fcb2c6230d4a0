import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PostgresTokenDenylist } from '../../../src/shared/auth/denylist.js';
import { RedisBackedDenylist, REVOKED_TOKENS_KEY } from '../../../src/shared/auth/redis-denylist.js';
import { newId } from '../../../src/shared/ids.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { RedisServer, testPrefix, waitFor, waitReady } from './support.js';

interface Context {
  db: TestDatabase;
  server: RedisServer;
  redis: Redis;
  denylist: RedisBackedDenylist;
  cleanups: (() => void)[];
}

const test = suite<Context>('redis: the token denylist refuses a revoked token at every moment');

const inAnHour = () => new Date(Date.now() + 3_600_000);

test.before(async (context) => {
  context.db = await createTestDatabase('redisdeny');
  context.server = await RedisServer.start();
  context.redis = createRedis(context.server.url, { keyPrefix: testPrefix('deny') });
  context.denylist = new RedisBackedDenylist({ pool: context.db.pool, redis: context.redis, checkIntervalMs: 200 });
  context.cleanups = [];
  await waitReady(context.redis);
  await waitFor(() => context.denylist.inSync, 'the denylist to trust Redis');
});

test.after(async ({ db, server, redis, denylist, cleanups }) => {
  for (const cleanup of cleanups) cleanup();
  denylist.close();
  redis.disconnect();
  await server.kill();
  await db.drop();
});

/** Asks the denylist over and over while `during` runs: every answer must be `expected`. */
async function everyAnswer(denylist: RedisBackedDenylist, jtis: Record<string, boolean>, during: () => Promise<void>): Promise<number> {
  let running = true;
  let asked = 0;
  const wrong: string[] = [];
  const asking = (async () => {
    while (running) {
      for (const [jti, expected] of Object.entries(jtis)) {
        const answer = await denylist.isRevoked(jti);
        asked += 1;
        if (answer !== expected) wrong.push(`${jti}: ${answer}`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  try {
    await during();
  } finally {
    running = false;
    await asking;
  }
  assert.equal(wrong, [], 'every answer was right');
  return asked;
}

test('a token revoked while Redis is up is refused, from Redis', async ({ denylist, redis }) => {
  const revoked = newId();
  const live = newId();
  await denylist.revoke(revoked, inAnHour());
  await waitFor(() => denylist.inSync, 'the denylist to trust Redis');
  assert.ok((await redis.zscore(REVOKED_TOKENS_KEY, revoked)) !== null, 'written to Redis');
  assert.is(await denylist.isRevoked(revoked), true);
  assert.is(await denylist.isRevoked(live), false);
});

test('Redis killed, back empty, a revocation made while it was down: a revoked token is refused throughout', async ({
  denylist,
  redis,
  server,
}) => {
  const before = newId();
  const live = newId();
  const during = newId();
  await denylist.revoke(before, inAnHour());
  let asked = await everyAnswer(denylist, { [before]: true, [live]: false }, async () => {
    await server.kill();
    await waitFor(() => redis.status !== 'ready', 'the client to notice');
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  assert.ok(asked > 10, `asked ${asked} times while Redis went down`);
  assert.not.ok(denylist.inSync);

  // Revoked while Redis is down: PostgreSQL has it, Redis never saw it.
  await denylist.revoke(during, inAnHour());
  assert.is(await denylist.isRevoked(during), true);

  asked = await everyAnswer(denylist, { [before]: true, [during]: true, [live]: false }, async () => {
    await server.start();
    await waitReady(redis);
    await waitFor(() => denylist.inSync, 'the denylist to trust Redis again');
  });
  assert.ok(asked > 10, `asked ${asked} times while Redis came back`);
  // Back in sync, the answers come from Redis, which now holds both.
  assert.ok((await redis.zscore(REVOKED_TOKENS_KEY, before)) !== null);
  assert.ok((await redis.zscore(REVOKED_TOKENS_KEY, during)) !== null);
  assert.is(await denylist.isRevoked(during), true);
  assert.is(await denylist.isRevoked(live), false);
});

test('a Redis that hangs: the answer comes from PostgreSQL within the timeout, then at once until Redis answers', async ({
  denylist,
  server,
}) => {
  const revoked = newId();
  const live = newId();
  await denylist.revoke(revoked, inAnHour());
  await waitFor(() => denylist.inSync, 'the denylist to trust Redis');
  server.pause();
  try {
    let started = performance.now();
    assert.is(await denylist.isRevoked(revoked), true);
    assert.ok(performance.now() - started < 400, 'within the command timeout');
    started = performance.now();
    assert.is(await denylist.isRevoked(live), false);
    assert.is(await denylist.isRevoked(revoked), true);
    assert.ok(performance.now() - started < 100, 'no more waiting on Redis');
    // Revoked while Redis hangs: the Redis write times out, PostgreSQL has it.
    const during = newId();
    await denylist.revoke(during, inAnHour());
    assert.is(await denylist.isRevoked(during), true);
    server.resume();
    await waitFor(() => denylist.inSync, 'the denylist to trust Redis again', 5_000);
    assert.is(await denylist.isRevoked(during), true);
    assert.is(await denylist.isRevoked(revoked), true);
    assert.is(await denylist.isRevoked(live), false);
  } finally {
    server.resume();
  }
});

test('a revocation whose Redis write failed in another process reaches Redis by the periodic check', async (context) => {
  const { db, server, denylist } = context;
  // Process B cannot reach Redis (its connection is down), process A can.
  const cutOff = createRedis(`redis://127.0.0.1:1`, { keyPrefix: testPrefix('cut') });
  const other = new RedisBackedDenylist({ pool: db.pool, redis: cutOff, checkIntervalMs: 0 });
  context.cleanups.push(() => other.close(), () => cutOff.disconnect());
  const jti = newId();
  await other.revoke(jti, inAnHour());
  assert.is(await other.isRevoked(jti), true, 'B answers from PostgreSQL');
  await waitFor(async () => (await context.redis.zscore(REVOKED_TOKENS_KEY, jti)) !== null, 'A to copy it into Redis', 5_000);
  assert.is(await denylist.isRevoked(jti), true);
  assert.ok(denylist.inSync);
  // A flush is noticed the same way.
  const raw = createRedis(server.url, { keyPrefix: '' });
  context.cleanups.push(() => raw.disconnect());
  await waitReady(raw);
  await raw.flushall();
  await waitFor(async () => (await context.redis.zscore(REVOKED_TOKENS_KEY, jti)) !== null, 'A to copy everything back', 5_000);
});

test('PostgreSQL stays the truth: the Redis-backed list agrees with it', async ({ db, denylist }) => {
  const jti = newId();
  await denylist.revoke(jti, inAnHour());
  assert.is(await new PostgresTokenDenylist(db.pool).isRevoked(jti), true);
});

test.run();
