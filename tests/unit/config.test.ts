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

test('a setting that names something not built stops the process, naming it', () => {
  const error = refusal({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: 'esdb://127.0.0.1:2113?tls=false' });
  assert.equal(names(error), ['EVENT_STORE']);
  assert.match(error.message, /not built/);
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
