import type { UserEvent } from '../../shared/events/user.js';
import type { UserState } from './state.js';

export function evolve(state: UserState, event: UserEvent): UserState {
  if (event.type === 'UserRegistered') {
    const { userId, username, passwordHash, role, displayName, email, storeIds } = event.data;
    return { status: 'active', userId, username, passwordHash, role, displayName, email, storeIds, lowStockEmails: true, credentialsVersion: 0 };
  }
  // History only holds these after UserRegistered; an absent user has nothing to change.
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'UserProfileUpdated':
      return {
        ...state,
        displayName: event.data.displayName === undefined ? state.displayName : event.data.displayName,
        email: event.data.email === undefined ? state.email : event.data.email,
        lowStockEmails: event.data.lowStockEmails ?? state.lowStockEmails,
      };
    case 'UserPasswordChanged':
      return { ...state, passwordHash: event.data.passwordHash, credentialsVersion: state.credentialsVersion + 1 };
    case 'UserRoleChanged':
      return { ...state, role: event.data.role };
    case 'UserStoresAssigned':
      return { ...state, storeIds: event.data.storeIds };
    case 'UserDeleted':
      return { ...state, status: 'deleted', credentialsVersion: state.credentialsVersion + 1 };
  }
}
