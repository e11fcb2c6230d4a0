import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RedisBackedDenylist } from '../../../src/shared/auth/redis-denylist.js';
import { newId } from '../../../src/shared/ids.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { inAnHour, revokeInTurns } from '../../support/revocations.js';
import { RedisServer, testPrefix, waitFor, waitReady } from './support.js';

interface Context {
  db: TestDatabase;
  server: RedisServer;
  clients: Redis[];
  /** Two processes of one deployment: the same Redis, the same prefix, each with its mirror. */
  a: RedisBackedDenylist;
  b: RedisBackedDenylist;
}

const test = suite<Context>('redis: the denylist answered from memory is never late');
const LEASE_MS = 100;

test.before(async (context) => {
  context.db = await createTestDatabase('redismirror');
  context.server = await RedisServer.start();
  const prefix = testPrefix('mirror');
  context.clients = [createRedis(context.server.url, { keyPrefix: prefix }), createRedis(context.server.url, { keyPrefix: prefix })];
  await Promise.all(context.clients.map((client) => waitReady(client)));
  [context.a, context.b] = context.clients.map(
    (redis) => new RedisBackedDenylist({ pool: context.db.pool, redis, checkIntervalMs: 200, mirrorLeaseMs: LEASE_MS }),
  ) as [RedisBackedDenylist, RedisBackedDenylist];
  await waitFor(() => context.a.mirrored && context.b.mirrored, 'both mirrors to cover');
});

test.after(async ({ db, server, clients, a, b }) => {
  a.close();
  b.close();
  for (const client of clients) client.disconnect();
  await server.kill();
  await db.drop();
});

test('a revocation made by one process is refused by the other from the moment it answers, from memory', async ({ a, b }) => {
  assert.ok((await revokeInTurns(a, b, LEASE_MS)) > 0, 'the mirror answers');
  assert.ok(b.mirrored, 'the mirror answers');
});

test('a mirror that hears nothing from Redis stops answering within its lease, and Redis or PostgreSQL answers', async ({ a, b, server }) => {
  const jti = newId();
  await a.revoke(jti, inAnHour());
  server.pause();
  try {
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 20));
    assert.not.ok(b.mirrored, 'not believed past its lease');
    assert.is(await b.isRevoked(jti), true);
  } finally {
    server.resume();
  }
  await waitFor(() => a.mirrored && b.mirrored, 'both mirrors to cover again', 10_000);
  assert.is(await b.isRevoked(jti), true);
});

test('the set rewritten from PostgreSQL (a flush): the mirrors read it again, and know what Redis missed', async ({ a, b, server, db }) => {
  const raw = createRedis(server.url, { keyPrefix: '' });
  await waitReady(raw);
  try {
    await raw.flushall();
    // Revoked straight into PostgreSQL (another release, a Redis write that failed): only the copy brings it.
    const jti = newId();
    await db.pool.query((await import('slonik')).sql.unsafe`insert into revoked_tokens (jti, expires_at) values (${jti}, ${inAnHour().toISOString()})`);
    await waitFor(async () => (await a.isRevoked(jti)) && (await b.isRevoked(jti)), 'both to refuse it', 10_000);
    await waitFor(() => a.mirrored && b.mirrored, 'both mirrors to cover again', 10_000);
    assert.is(await b.isRevoked(jti), true);
    assert.is(await b.isRevoked(newId()), false);
  } finally {
    raw.disconnect();
  }
});

test.run();
