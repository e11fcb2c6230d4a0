import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NothingToChange } from '../../../src/shared/domain-errors.js';
import { AlreadyExists, NotFound } from '../../../src/shared/errors.js';
import { userDecider, type UserEvent } from '../../../src/write/user/decider.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('user decider');
const user = spec(userDecider);

const userId = '01900000-0000-7000-8000-0000000000a1';
const storeA = '01900000-0000-7000-8000-0000000000b1';
const storeB = '01900000-0000-7000-8000-0000000000b2';

const registered: UserEvent = {
  type: 'UserRegistered',
  data: {
    userId,
    username: 'alice',
    passwordHash: 'hash-1',
    role: 'staff',
    displayName: 'Alice',
    email: null,
    storeIds: [storeA],
  },
};
const deleted: UserEvent = { type: 'UserDeleted', data: {} };
const passwordChanged: UserEvent = { type: 'UserPasswordChanged', data: { passwordHash: 'hash-2' } };

test('registers a user, with no display name or email unless given', () => {
  user
    .when({ type: 'RegisterUser', userId, username: 'bob', passwordHash: 'h', role: 'auditor', storeIds: [] })
    .then([
      {
        type: 'UserRegistered',
        data: { userId, username: 'bob', passwordHash: 'h', role: 'auditor', displayName: null, email: null, storeIds: [] },
      },
    ]);
});

test('registering keeps each store once', () => {
  user
    .when({
      type: 'RegisterUser',
      userId,
      username: 'alice',
      passwordHash: 'hash-1',
      role: 'staff',
      displayName: 'Alice',
      storeIds: [storeA, storeA],
    })
    .then([registered]);
});

test('refuses to register a user twice', () => {
  const error = user
    .given([registered])
    .when({ type: 'RegisterUser', userId, username: 'alice', passwordHash: 'h', role: 'staff', storeIds: [] })
    .thenThrows(AlreadyExists);
  assert.is(error.status, 409);
});

test('refuses to register again under the id of a deleted user', () => {
  user
    .given([registered, deleted])
    .when({ type: 'RegisterUser', userId, username: 'alice', passwordHash: 'h', role: 'staff', storeIds: [] })
    .thenThrows(AlreadyExists);
});

test('updates only the profile fields that change', () => {
  user
    .given([registered])
    .when({ type: 'UpdateProfile', userId, displayName: 'Alice', email: 'alice@example.com' })
    .then([{ type: 'UserProfileUpdated', data: { email: 'alice@example.com' } }]);
});

test('clears a profile field with null', () => {
  user
    .given([registered])
    .when({ type: 'UpdateProfile', userId, displayName: null })
    .then([{ type: 'UserProfileUpdated', data: { displayName: null } }]);
});

test('a profile update to the same values writes nothing', () => {
  user.given([registered]).when({ type: 'UpdateProfile', userId, displayName: 'Alice', email: null }).thenNothing();
});

test('a profile update naming no field is refused', () => {
  const error = user.given([registered]).when({ type: 'UpdateProfile', userId }).thenThrows(NothingToChange);
  assert.is(error.status, 422);
  assert.equal(
    (error.extra.errors as { field: string }[]).map((e) => e.field),
    ['displayName', 'email', 'lowStockEmails'],
  );
});

test('turns low-stock emails off, and on again', () => {
  const off: UserEvent = { type: 'UserProfileUpdated', data: { lowStockEmails: false } };
  user.given([registered]).when({ type: 'UpdateProfile', userId, lowStockEmails: false }).then([off]);
  user
    .given([registered, off])
    .when({ type: 'UpdateProfile', userId, lowStockEmails: true })
    .then([{ type: 'UserProfileUpdated', data: { lowStockEmails: true } }]);
});

test('low-stock emails are on from registration: asking for them again writes nothing', () => {
  user.given([registered]).when({ type: 'UpdateProfile', userId, lowStockEmails: true }).thenNothing();
});

test('turning low-stock emails off twice writes one event', () => {
  user
    .given([registered, { type: 'UserProfileUpdated', data: { lowStockEmails: false } }])
    .when({ type: 'UpdateProfile', userId, lowStockEmails: false })
    .thenNothing();
});

test('low-stock emails change beside the other profile fields, in one event', () => {
  user
    .given([registered])
    .when({ type: 'UpdateProfile', userId, email: 'alice@example.com', lowStockEmails: false })
    .then([{ type: 'UserProfileUpdated', data: { email: 'alice@example.com', lowStockEmails: false } }]);
});

test('a profile update written before lowStockEmails existed leaves it as it was', () => {
  const state = user
    .given([
      registered,
      { type: 'UserProfileUpdated', data: { lowStockEmails: false } },
      { type: 'UserProfileUpdated', data: { displayName: 'Al' } },
    ])
    .state();
  assert.is(state.status === 'active' && state.lowStockEmails, false);
});

test('changes the password, even to a hash it had before', () => {
  user
    .given([registered])
    .when({ type: 'ChangePassword', userId, passwordHash: 'hash-1' })
    .then([{ type: 'UserPasswordChanged', data: { passwordHash: 'hash-1' } }]);
});

test('changes the role', () => {
  user
    .given([registered])
    .when({ type: 'ChangeRole', userId, role: 'manager' })
    .then([{ type: 'UserRoleChanged', data: { role: 'manager' } }]);
});

test('changing to the same role writes nothing', () => {
  user.given([registered]).when({ type: 'ChangeRole', userId, role: 'staff' }).thenNothing();
});

test('assigns stores, each once', () => {
  user
    .given([registered])
    .when({ type: 'AssignStores', userId, storeIds: [storeB, storeA, storeB] })
    .then([{ type: 'UserStoresAssigned', data: { storeIds: [storeB, storeA] } }]);
});

test('assigning no store at all is a change', () => {
  user
    .given([registered])
    .when({ type: 'AssignStores', userId, storeIds: [] })
    .then([{ type: 'UserStoresAssigned', data: { storeIds: [] } }]);
});

test('assigning the same stores in another order writes nothing', () => {
  const both: UserEvent = { type: 'UserStoresAssigned', data: { storeIds: [storeA, storeB] } };
  user.given([registered, both]).when({ type: 'AssignStores', userId, storeIds: [storeB, storeA] }).thenNothing();
});

test('deletes a user', () => {
  user.given([registered]).when({ type: 'DeleteUser', userId }).then([deleted]);
});

const everyChange = [
  { type: 'UpdateProfile', userId, displayName: 'A' },
  { type: 'ChangePassword', userId, passwordHash: 'h' },
  { type: 'ChangeRole', userId, role: 'manager' },
  { type: 'AssignStores', userId, storeIds: [] },
  { type: 'DeleteUser', userId },
] as const;

for (const command of everyChange) {
  test(`${command.type} on an unknown user is not found`, () => {
    const error = user.when(command).thenThrows(NotFound);
    assert.equal(error.extra, { resource: 'user', id: userId });
  });
  test(`${command.type} on a deleted user is not found`, () => {
    user.given([registered, deleted]).when(command).thenThrows(NotFound);
  });
}

test('evolve keeps the profile, role and stores', () => {
  const state = user
    .given([
      registered,
      { type: 'UserProfileUpdated', data: { email: 'a@example.com' } },
      { type: 'UserRoleChanged', data: { role: 'manager' } },
      { type: 'UserStoresAssigned', data: { storeIds: [storeB] } },
    ])
    .state();
  assert.equal(state, {
    status: 'active',
    userId,
    username: 'alice',
    passwordHash: 'hash-1',
    role: 'manager',
    displayName: 'Alice',
    email: 'a@example.com',
    storeIds: [storeB],
    lowStockEmails: true,
    credentialsVersion: 0,
  });
});

const credentialsVersion = (history: UserEvent[]) => {
  const state = user.given(history).state();
  return state.status === 'absent' ? undefined : state.credentialsVersion;
};

test('a password change or a deletion revokes older tokens; other changes do not', () => {
  assert.is(credentialsVersion([registered]), 0);
  assert.is(credentialsVersion([registered, passwordChanged]), 1);
  assert.is(credentialsVersion([registered, passwordChanged, passwordChanged]), 2);
  assert.is(credentialsVersion([registered, { type: 'UserRoleChanged', data: { role: 'auditor' } }]), 0);
  assert.is(credentialsVersion([registered, passwordChanged, deleted]), 2);
});

test('the new password hash is the one kept', () => {
  const state = user.given([registered, passwordChanged]).state();
  assert.is(state.status === 'active' && state.passwordHash, 'hash-2');
});

test.run();
