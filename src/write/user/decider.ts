import type { Decider } from '../../shared/decider.js';
import type { UserEvent } from '../../shared/events/user.js';
import type { UserCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type UserState } from './state.js';

export const userDecider: Decider<UserCommand, UserEvent, UserState> = { decide, evolve, initialState };

export type { UserCommand } from './commands.js';
export type { UserEvent } from '../../shared/events/user.js';
export type { UserState } from './state.js';
