import type { Decider } from '../../shared/decider.js';
import type { ManagerRosterEvent } from '../../shared/events/manager-roster.js';
import type { ManagerRosterCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type ManagerRosterState } from './state.js';

export const managerRosterDecider: Decider<ManagerRosterCommand, ManagerRosterEvent, ManagerRosterState> = {
  decide,
  evolve,
  initialState,
};
