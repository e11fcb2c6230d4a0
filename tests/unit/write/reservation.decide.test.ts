import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AlreadyExists } from '../../../src/shared/errors.js';
import { reservationDecider, type ReservationEvent } from '../../../src/write/reservation/decider.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('reservation decider');
const reservation = spec(reservationDecider);

const alice = '01900000-0000-7000-8000-0000000000a1';
const bob = '01900000-0000-7000-8000-0000000000a2';

const reservedByAlice: ReservationEvent = { type: 'Reserved', data: { value: 'alice', ownerId: alice } };
const releasedByAlice: ReservationEvent = { type: 'Released', data: { ownerId: alice } };

test('reserves a free value', () => {
  reservation.when({ type: 'Reserve', value: 'alice', ownerId: alice, field: 'username' }).then([reservedByAlice]);
});

test('reserving again for the same owner writes nothing', () => {
  reservation
    .given([reservedByAlice])
    .when({ type: 'Reserve', value: 'alice', ownerId: alice, field: 'username' })
    .thenNothing();
});

test('refuses a value held by another owner, naming the field', () => {
  const error = reservation
    .given([reservedByAlice])
    .when({ type: 'Reserve', value: 'Alice', ownerId: bob, field: 'username' })
    .thenThrows(AlreadyExists);
  assert.is(error.status, 409);
  assert.equal(error.extra, {
    resource: 'username',
    id: 'Alice',
    errors: [{ field: 'username', reason: 'username Alice already exists' }],
  });
});

test('a released value can be reserved by someone else', () => {
  reservation
    .given([reservedByAlice, releasedByAlice])
    .when({ type: 'Reserve', value: 'ALICE', ownerId: bob, field: 'username' })
    .then([{ type: 'Reserved', data: { value: 'ALICE', ownerId: bob } }]);
});

test('the owner releases a value', () => {
  reservation.given([reservedByAlice]).when({ type: 'Release', ownerId: alice }).then([releasedByAlice]);
});

test('releasing a value held by someone else writes nothing', () => {
  reservation.given([reservedByAlice]).when({ type: 'Release', ownerId: bob }).thenNothing();
});

test('releasing a free value writes nothing', () => {
  reservation.when({ type: 'Release', ownerId: alice }).thenNothing();
  reservation.given([reservedByAlice, releasedByAlice]).when({ type: 'Release', ownerId: alice }).thenNothing();
});

test('evolve keeps who holds the value', () => {
  assert.equal(reservation.given([reservedByAlice]).state(), { status: 'held', value: 'alice', ownerId: alice });
  assert.equal(reservation.given([reservedByAlice, releasedByAlice]).state(), { status: 'free' });
});

test.run();
