import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig, publicUrl } from '../../src/shared/config.js';

const test = suite('config: settings are checked at start');

/** The ConfigError that loading `env` throws; fails the test when it does not throw one. */
function refusal(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.instance(error, ConfigError);
    return error as ConfigError;
  }
  assert.unreachable(`loadConfig(${JSON.stringify(env)}) should have thrown`);
  throw new Error('unreachable');
}

const names = (error: ConfigError) => error.problems.map((problem) => problem.split(':')[0]);
const randomSecret = () => randomBytes(36).toString('base64url'); // 48 characters

test('production without JWT_SECRET is refused, naming JWT_SECRET', () => {
  const error = refusal({ NODE_ENV: 'production' });
  assert.equal(names(error), ['JWT_SECRET']);
  assert.match(error.message, /JWT_SECRET/);
});

test('production with an empty JWT_SECRET is refused', () => {
  assert.equal(names(refusal({ NODE_ENV: 'production', JWT_SECRET: '' })), ['JWT_SECRET']);
});

test('production with a well-known example secret is refused', () => {
  for (const secret of ['change-me', 'changeme', 'secret']) {
    assert.equal(names(refusal({ NODE_ENV: 'production', JWT_SECRET: secret })), ['JWT_SECRET'], secret);
  }
});

test('production with a short secret is refused', () => {
  assert.equal(names(refusal({ NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(31) })), ['JWT_SECRET']);
});

test('production with a 48-character random secret passes', () => {
  const secret = randomSecret();
  assert.is(secret.length, 48);
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret });
  assert.is(config.NODE_ENV, 'production');
  assert.is(config.JWT_SECRET, secret);
});

test('production refuses the placeholders a manifest ships and low-entropy secrets, whatever their length', () => {
  const placeholders = ['CHANGE_ME_TO_32_OR_MORE_RANDOM_CHARACTERS', 'replace-me-with-a-random-value-of-32-chars', '<your-jwt-secret-goes-here-at-least-32>'];
  const predictable = ['a'.repeat(32), 'ab'.repeat(20), 'abcdefghijklmnopqrstuvwxyz0123456789', '1234567890'.repeat(4), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'];
  for (const secret of [...placeholders, ...predictable]) {
    assert.equal(names(refusal({ NODE_ENV: 'production', JWT_SECRET: secret })), ['JWT_SECRET'], secret);
  }
  assert.match(refusal({ NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(64) }).message, /predictable/);
  // Every random value of the suggested kinds passes.
  for (let i = 0; i < 200; i += 1) {
    for (const secret of [randomBytes(16).toString('hex'), randomBytes(48).toString('base64'), randomSecret()]) {
      assert.is(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).JWT_SECRET, secret);
    }
  }
});

test('production refuses a placeholder or guessable ADMIN_PASSWORD and a placeholder database password', () => {
  const base = { NODE_ENV: 'production', JWT_SECRET: randomSecret() };
  for (const password of ['CHANGE_ME', 'changeme-please', 'password1234', '111111111111', 'abcdefghijkl']) {
    assert.equal(names(refusal({ ...base, ADMIN_PASSWORD: password })), ['ADMIN_PASSWORD'], password);
  }
  assert.equal(names(refusal({ ...base, DATABASE_URL: 'postgres://stockroom:CHANGE_ME@postgres:5432/stockroom' })), ['DATABASE_URL']);
  const config = loadConfig({ ...base, ADMIN_PASSWORD: 'tapir-quarry-lantern-97', DATABASE_URL: `postgres://stockroom:${randomBytes(18).toString('hex')}@db/stockroom` });
  assert.is(config.ADMIN_PASSWORD, 'tapir-quarry-lantern-97');
  // Outside production the rule does not apply: tests and the embedded default use short ones.
  assert.is(loadConfig({ ADMIN_PASSWORD: 'CHANGE_ME' }).ADMIN_PASSWORD, 'CHANGE_ME');
});

test('development needs no secret (one is generated and kept in DATA_DIR)', () => {
  const config = loadConfig({});
  assert.is(config.NODE_ENV, 'development');
  assert.is(config.JWT_SECRET, undefined);
  assert.is(config.TOKEN_TTL_SECONDS, 8 * 3600);
  assert.is(config.LOGIN_RATE_LIMIT, 10);
});

test('numbers are parsed and checked, each problem named', () => {
  const config = loadConfig({ TOKEN_TTL_SECONDS: '60', LOGIN_RATE_LIMIT: '3' });
  assert.is(config.TOKEN_TTL_SECONDS, 60);
  assert.is(config.LOGIN_RATE_LIMIT, 3);
  const error = refusal({ TOKEN_TTL_SECONDS: '0', LOGIN_RATE_LIMIT: 'many' });
  assert.equal(names(error).sort(), ['LOGIN_RATE_LIMIT', 'TOKEN_TTL_SECONDS']);
});

test('an unknown role or a short admin password is refused', () => {
  assert.equal(names(refusal({ ROLES: 'write-api,teapot' })), ['ROLES.1']);
  assert.equal(names(refusal({ ADMIN_PASSWORD: 'short' })), ['ADMIN_PASSWORD']);
});

test('EVENT_STORE=eventstoredb needs an EVENTSTOREDB_URL that parses; a bad one stops the process naming it', () => {
  assert.equal(names(refusal({ EVENT_STORE: 'eventstoredb' })), ['EVENTSTOREDB_URL']);
  assert.equal(names(refusal({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'http://127.0.0.1:2113' })), ['EVENTSTOREDB_URL']);
  assert.equal(names(refusal({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://127.0.0.1:2113 ?tls=false' })), ['EVENTSTOREDB_URL']);
  assert.equal(names(refusal({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://host_name:21x3' })), ['EVENTSTOREDB_URL']);
  assert.equal(names(refusal({ EVENTSTOREDB_URL: 'esdb://127.0.0.1:2113?tls=false' })), ['EVENTSTOREDB_URL'], 'set but not used');
  for (const url of ['esdb://127.0.0.1:2113?tls=false', 'kurrentdb://admin:changeit@node1:2113,node2:2113,node3:2113', 'esdb+discover://cluster.local:2113', 'kurrentdb://[::1]:2113/?tls=false']) {
    assert.is(loadConfig({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: url }).EVENTSTOREDB_URL, url);
  }
});

test('the notifier without the read API is refused: it feeds that process\'s websockets', () => {
  assert.equal(names(refusal({ ROLES: 'notifier' })), ['ROLES']);
  assert.equal(loadConfig({ ROLES: 'read-api,notifier' }).ROLES, ['read-api', 'notifier']);
});

test('mail settings: the digest window and the public address', () => {
  const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080' });
  assert.is(config.LOW_STOCK_DIGEST_SECONDS, 60);
  assert.is(publicUrl(config), 'http://0.0.0.0:8080');
  assert.is(publicUrl(loadConfig({ PUBLIC_URL: 'https://stock.example.com/' })), 'https://stock.example.com');
  assert.is(loadConfig({ LOW_STOCK_DIGEST_SECONDS: '0' }).LOW_STOCK_DIGEST_SECONDS, 0);
  assert.equal(names(refusal({ LOW_STOCK_DIGEST_SECONDS: '-1', PUBLIC_URL: 'ftp://x' })).sort(), ['LOW_STOCK_DIGEST_SECONDS', 'PUBLIC_URL']);
});

test.run();
