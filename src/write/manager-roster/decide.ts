import { LastManager } from '../../shared/domain-errors.js';
import type { ManagerRosterEvent } from '../../shared/events/manager-roster.js';
import type { ManagerRosterCommand } from './commands.js';
import type { ManagerRosterState } from './state.js';

/** Adding a member or removing a non-member changes nothing, so a retried request is harmless. */
export function decide(command: ManagerRosterCommand, state: ManagerRosterState): ManagerRosterEvent[] {
  if (command.type === 'StartRoster') {
    return state.status === 'absent' ? [{ type: 'ManagerRosterStarted', data: { userIds: [...new Set(command.userIds)] } }] : [];
  }
  // The roster service starts it before any change; reaching here without is a bug.
  if (state.status === 'absent') throw new Error(`${command.type} before the manager roster was started`);
  const member = state.managers.includes(command.userId);
  switch (command.type) {
    case 'AddManager':
      return member ? [] : [{ type: 'ManagerAdded', data: { userId: command.userId } }];
    case 'RemoveManager':
      if (!member) return [];
      if (state.managers.length === 1) throw new LastManager(command.userId);
      return [{ type: 'ManagerRemoved', data: { userId: command.userId } }];
  }
}
