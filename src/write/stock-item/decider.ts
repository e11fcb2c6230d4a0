import type { Decider } from '../../shared/decider.js';
import type { StockItemEvent } from '../../shared/events/stock-item.js';
import type { StockItemCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type StockItemState } from './state.js';

export const stockItemDecider: Decider<StockItemCommand, StockItemEvent, StockItemState> = {
  decide,
  evolve,
  initialState,
};

export { InsufficientStock, InvalidDelta, ItemAlreadyInStore, StoreNotOpen } from '../../shared/domain-errors.js';
export type { StockItemCommand } from './commands.js';
export type { StockItemEvent } from '../../shared/events/stock-item.js';
export type { StockItemState } from './state.js';
