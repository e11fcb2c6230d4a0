import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_BACKOFF, retryDelayMs } from '../../../src/projections/mailer/outbox/backoff.js';

const top = () => 0.999_999;
const bottom = () => 0;

test('mail retries back off: 5 s, 10 s, 20 s … capped at 10 min', () => {
  const ceilings = [1, 2, 3, 4, 8, 20, 1_000].map((attempts) => Math.round(retryDelayMs(attempts, DEFAULT_BACKOFF, top) / 1000));
  assert.equal(ceilings, [5, 10, 20, 40, 600, 600, 600]);
});

test('mail retries are jittered over the upper half of their wait', () => {
  assert.is(retryDelayMs(1, DEFAULT_BACKOFF, bottom), 2_500);
  for (let index = 0; index < 100; index += 1) {
    const delay = retryDelayMs(3, DEFAULT_BACKOFF);
    assert.ok(delay >= 10_000 && delay <= 20_000, String(delay));
  }
});

test.run();
