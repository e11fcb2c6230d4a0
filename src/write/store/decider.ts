import type { Decider } from '../../shared/decider.js';
import type { StoreEvent } from '../../shared/events/store.js';
import type { StoreCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type StoreState } from './state.js';

export const storeDecider: Decider<StoreCommand, StoreEvent, StoreState> = { decide, evolve, initialState };

export type { StoreCommand } from './commands.js';
export type { StoreEvent } from '../../shared/events/store.js';
export type { StoreState } from './state.js';
