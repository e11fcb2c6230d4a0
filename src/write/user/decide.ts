import { NothingToChange } from '../../shared/domain-errors.js';
import { AlreadyExists, NotFound } from '../../shared/errors.js';
import type { UserEvent } from '../../shared/events/user.js';
import { changedFields, isEmpty, isEmptyPatch } from '../patch.js';
import type { RegisterUser, UpdateProfile, UserCommand } from './commands.js';
import type { ActiveUser, UserState } from './state.js';

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return registerUser(command, state);
    case 'UpdateProfile':
      return updateProfile(command, activeUser(state, command.userId));
    case 'ChangePassword':
      activeUser(state, command.userId);
      // Always recorded: hashes are salted, so "the same password" cannot be seen here.
      return [{ type: 'UserPasswordChanged', data: { passwordHash: command.passwordHash } }];
    case 'ChangeRole': {
      const user = activeUser(state, command.userId);
      return user.role === command.role ? [] : [{ type: 'UserRoleChanged', data: { role: command.role } }];
    }
    case 'AssignStores': {
      const user = activeUser(state, command.userId);
      const storeIds = distinct(command.storeIds);
      return sameMembers(user.storeIds, storeIds) ? [] : [{ type: 'UserStoresAssigned', data: { storeIds } }];
    }
    case 'DeleteUser':
      activeUser(state, command.userId);
      return [{ type: 'UserDeleted', data: {} }];
  }
}

function registerUser(command: RegisterUser, state: UserState): UserEvent[] {
  // A deleted user's id stays taken: its history must not be mixed with a newcomer's.
  if (state.status !== 'absent') throw new AlreadyExists('user', command.userId);
  const { userId, username, passwordHash, role } = command;
  return [
    {
      type: 'UserRegistered',
      data: {
        userId,
        username,
        passwordHash,
        role,
        displayName: command.displayName ?? null,
        email: command.email ?? null,
        storeIds: distinct(command.storeIds),
      },
    },
  ];
}

function updateProfile(command: UpdateProfile, user: ActiveUser): UserEvent[] {
  const patch = { displayName: command.displayName, email: command.email, lowStockEmails: command.lowStockEmails };
  if (isEmptyPatch(patch)) throw new NothingToChange(Object.keys(patch));
  const changes = changedFields(user, patch);
  return isEmpty(changes) ? [] : [{ type: 'UserProfileUpdated', data: changes }];
}

function activeUser(state: UserState, userId: string): ActiveUser {
  if (state.status !== 'active') throw new NotFound('user', userId);
  return state;
}

const distinct = (ids: readonly string[]): string[] => [...new Set(ids)];

/** Store lists are sets: the order a client sends them in means nothing. */
function sameMembers(current: readonly string[], next: readonly string[]): boolean {
  const members = new Set(current);
  return members.size === next.length && next.every((id) => members.has(id));
}
