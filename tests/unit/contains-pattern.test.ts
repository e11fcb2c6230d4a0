import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containsPattern } from '../../src/read/list.js';

// `q` is a substring, not a pattern: LIKE's own characters in it must match themselves.
test('a needle becomes a LIKE pattern matching it anywhere, its %, _ and \\ escaped', () => {
  assert.is(containsPattern('tea'), '%tea%');
  assert.is(containsPattern('50%'), '%50\\%%');
  assert.is(containsPattern('a_b'), '%a\\_b%');
  assert.is(containsPattern('c:\\d'), '%c:\\\\d%');
});

test.run();
