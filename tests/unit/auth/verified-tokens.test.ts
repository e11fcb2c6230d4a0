import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bearerToken } from '../../../src/shared/auth/plugin.js';
import { VerifiedTokens } from '../../../src/shared/auth/verified-tokens.js';

test('a verified token is answered from memory only while it has not expired, then dropped', () => {
  const tokens = new VerifiedTokens<{ exp: number; sub: string }>(10);
  tokens.set('t', { exp: 100, sub: 'u' });
  assert.equal(tokens.get('t', 100_000), { exp: 100, sub: 'u' }, 'valid up to and at exp, as fast-jwt checks it');
  assert.is(tokens.get('t', 100_001), undefined, 'past exp: verify again (and be told it expired)');
  assert.is(tokens.size, 0);
});

test('not before nbf', () => {
  const tokens = new VerifiedTokens<{ exp: number; nbf?: number }>(10);
  tokens.set('t', { exp: 200, nbf: 100 });
  assert.is(tokens.get('t', 99_999), undefined);
});

test('bounded: the entry inserted first goes; 0 keeps nothing', () => {
  const tokens = new VerifiedTokens<{ exp: number }>(2);
  for (const token of ['a', 'b', 'c']) tokens.set(token, { exp: 1e12 });
  assert.is(tokens.get('a', 0), undefined);
  assert.ok(tokens.get('b', 0) && tokens.get('c', 0));
  const none = new VerifiedTokens<{ exp: number }>(0);
  none.set('a', { exp: 1e12 });
  assert.is(none.size, 0);
});

test('the bearer token is taken exactly as @fastify/jwt takes it; any other shape is left to it', () => {
  assert.is(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.is(bearerToken('bearer abc'), 'abc');
  for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Bearer  abc', 'Bearer abc def', 'Bearer\tabc', 'Basic abc', 'Bearerx abc']) {
    assert.is(bearerToken(header), null, String(header));
  }
});

test.run();
