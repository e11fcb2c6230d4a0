import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDatabaseUnreachable } from '../../src/shared/db/unreachable.js';

/** Errors shaped as pg and slonik raise them; the outage test provokes the refused and terminated ones for real. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

test('starting up, shutting down, terminated, refused: unreachable', () => {
  assert.ok(isDatabaseUnreachable(pgError('57P03', 'the database system is starting up')));
  assert.ok(isDatabaseUnreachable(pgError('57P03', 'the database system is shutting down')));
  assert.ok(isDatabaseUnreachable(pgError('57P01', 'terminating connection due to administrator command')));
  assert.ok(isDatabaseUnreachable(new Error('Connection terminated unexpectedly')));
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  assert.ok(isDatabaseUnreachable(new AggregateError([refused], '')));
  assert.ok(isDatabaseUnreachable(Object.assign(new Error('wrapped'), { cause: refused })));
});

test('KurrentDB unreachable, too slow, or without a leader: unreachable; its refusals are not', () => {
  const kurrent = (type: string) => Object.assign(new Error(`kurrentdb ${type}`), { type });
  assert.ok(isDatabaseUnreachable(kurrent('unavailable')));
  assert.ok(isDatabaseUnreachable(kurrent('deadline-exceeded')));
  assert.ok(isDatabaseUnreachable(kurrent('not-leader')));
  assert.ok(isDatabaseUnreachable(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established' })));
  assert.not.ok(isDatabaseUnreachable(kurrent('wrong-expected-version')));
  assert.not.ok(isDatabaseUnreachable(kurrent('access-denied')));
});

test('a query the database refused is not an outage', () => {
  assert.not.ok(isDatabaseUnreachable(pgError('23505', 'duplicate key value violates unique constraint')));
  assert.not.ok(isDatabaseUnreachable(pgError('42P01', 'relation "x" does not exist')));
  assert.not.ok(isDatabaseUnreachable(new Error('something else')));
  assert.not.ok(isDatabaseUnreachable(undefined));
});

test.run();
