import type { ManagerRosterEvent } from '../../shared/events/manager-roster.js';
import type { ManagerRosterState } from './state.js';

export function evolve(state: ManagerRosterState, event: ManagerRosterEvent): ManagerRosterState {
  const managers = state.status === 'kept' ? state.managers : [];
  switch (event.type) {
    case 'ManagerRosterStarted':
      return { status: 'kept', managers: [...new Set(event.data.userIds)] };
    case 'ManagerAdded':
      return { status: 'kept', managers: managers.includes(event.data.userId) ? managers : [...managers, event.data.userId] };
    case 'ManagerRemoved':
      return { status: 'kept', managers: managers.filter((id) => id !== event.data.userId) };
  }
}
