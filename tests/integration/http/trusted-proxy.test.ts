import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { type Harness, startHarness } from '../../support/app.js';

/**
 * Login limits behind the shipped proxy: with TRUST_PROXY the client's X-Forwarded-For is
 * its address, without it the header is ignored; with Redis two app instances share one
 * count. LOGIN_RATE_LIMIT=2: the third failed attempt for one username from one address is a 429.
 */
const test = suite('HTTP: trusted proxies and shared login limits');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROXY = '127.0.0.1'; // fastify.inject comes from here, as nginx would

const attempt = (harness: Harness | { app: Harness['app'] }, client: string | null, username = 'cashier') =>
  harness.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: PROXY,
    headers: client ? { 'x-forwarded-for': client } : {},
    payload: { username, password: 'not-the-password' },
  });

test('with TRUST_PROXY, two clients behind the proxy are limited separately', async () => {
  const harness = await startHarness('proxytrust', { LOGIN_RATE_LIMIT: '2', TRUST_PROXY: `${PROXY}, 10.0.0.0/8` });
  try {
    for (let i = 0; i < 2; i += 1) assert.is((await attempt(harness, '203.0.113.7')).statusCode, 401);
    assert.is((await attempt(harness, '203.0.113.7')).statusCode, 429, 'the first client is limited');
    assert.is((await attempt(harness, '198.51.100.4')).statusCode, 401, 'the second client is not');
    // A client that prepends its own header is still named by the proxy's last hop.
    assert.is((await attempt(harness, '198.51.100.9, 203.0.113.7')).statusCode, 429, 'the address the proxy saw counts');
  } finally {
    await harness.close();
  }
});

test('without TRUST_PROXY, X-Forwarded-For is ignored: every client behind the proxy is the proxy', async () => {
  const harness = await startHarness('proxynone', { LOGIN_RATE_LIMIT: '2' });
  try {
    for (let i = 0; i < 2; i += 1) assert.is((await attempt(harness, `203.0.113.${i + 1}`)).statusCode, 401);
    assert.is((await attempt(harness, '198.51.100.4')).statusCode, 429, 'one shared address');
  } finally {
    await harness.close();
  }
});

test('TRUST_PROXY takes addresses and CIDR ranges only', () => {
  assert.equal(loadConfig({ TRUST_PROXY: '10.0.0.1,fd00::/8' }).TRUST_PROXY, ['10.0.0.1', 'fd00::/8']);
  assert.equal(loadConfig({}).TRUST_PROXY, []);
  for (const wrong of ['true', '10.0.0.0/33', 'nginx', '10.0.0.1/8/1']) assert.throws(() => loadConfig({ TRUST_PROXY: wrong }), /TRUST_PROXY/);
});

test('two app instances on one Redis share the limit', async () => {
  const prefix = `stockroom-test:ratelimit:${randomBytes(3).toString('hex')}:`;
  const redis: Redis = createRedis(REDIS_URL, { keyPrefix: prefix, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
  const harness = await startHarness('proxyredis', { LOGIN_RATE_LIMIT: '2', TRUST_PROXY: PROXY }, { redis });
  const config = loadConfig({ NODE_ENV: 'test', LOGIN_RATE_LIMIT: '2', TRUST_PROXY: PROXY, JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789' });
  const second = await buildApp({ config, pool: harness.db.pool, eventStore: harness.eventStore, jwtSecret: config.JWT_SECRET!, logger: false, redis });
  try {
    await redis.ping();
    assert.is((await attempt(harness, '203.0.113.7')).statusCode, 401);
    assert.is((await attempt({ app: second }, '203.0.113.7')).statusCode, 401);
    assert.is((await attempt(harness, '203.0.113.7')).statusCode, 429, 'the first instance counts the second one\'s attempt');
    assert.is((await attempt({ app: second }, '203.0.113.7')).statusCode, 429, 'and the other way round');
    // KEYS patterns are not prefixed by ioredis; its answers carry the prefix.
    assert.ok((await redis.keys(`${prefix}rate-limit:*`)).length > 0, 'the counts live in Redis');
  } finally {
    await second.close();
    await harness.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
    redis.disconnect();
  }
});

test.run();
