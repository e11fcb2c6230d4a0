import type { Decider } from '../../shared/decider.js';
import type { SkuEvent } from '../../shared/events/sku.js';
import type { SkuCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type SkuState } from './state.js';

export const skuDecider: Decider<SkuCommand, SkuEvent, SkuState> = { decide, evolve, initialState };

export type { SkuCommand } from './commands.js';
export type { SkuEvent } from '../../shared/events/sku.js';
export type { SkuState } from './state.js';
