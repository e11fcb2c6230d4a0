import {
  InsufficientStock,
  InvalidDelta,
  InvalidValue,
  ItemAlreadyInStore,
  StoreNotOpen,
} from '../../shared/domain-errors.js';
import { NotFound } from '../../shared/errors.js';
import { isCount } from '../../shared/events/define.js';
import type { AdjustmentReason, StockItemEvent } from '../../shared/events/stock-item.js';
import type { AddStockItem, AdjustStock, CountStock, StockItemCommand } from './commands.js';
import type { PresentStockItem, StockItemState } from './state.js';

export function decide(command: StockItemCommand, state: StockItemState): StockItemEvent[] {
  switch (command.type) {
    case 'AddStockItem':
      return addStockItem(command, state);
    case 'AdjustStock':
      return adjustStock(command, presentItem(state, command));
    case 'CountStock':
      return countStock(command, presentItem(state, command));
    case 'ChangeLowStockThreshold': {
      const item = presentItem(state, command);
      checkCount('lowStockThreshold', command.lowStockThreshold);
      const previous = item.lowStockThreshold;
      if (command.lowStockThreshold === previous) return [];
      return [{ type: 'LowStockThresholdChanged', data: { lowStockThreshold: command.lowStockThreshold, previous } }];
    }
    case 'RemoveStockItem': {
      const item = presentItem(state, command);
      return [{ type: 'StockItemRemoved', data: { quantityAtRemoval: item.quantity } }];
    }
  }
}

function addStockItem(command: AddStockItem, state: StockItemState): StockItemEvent[] {
  const { storeId, skuId, quantity, lowStockThreshold } = command;
  checkCount('quantity', quantity);
  checkCount('lowStockThreshold', lowStockThreshold);
  if (command.storeStatus === 'absent') throw new NotFound('store', storeId);
  if (command.storeStatus === 'closed') throw new StoreNotOpen(storeId);
  if (!command.skuExists) throw new NotFound('sku', skuId);
  if (state.status === 'present') throw new ItemAlreadyInStore(storeId, skuId);
  return [{ type: 'StockItemAdded', data: { storeId, skuId, quantity, lowStockThreshold } }];
}

/** Goods coming in can only add, goods going out can only take away; a correction goes either way. */
const directionOf: Record<AdjustmentReason, 'in' | 'out' | 'either'> = {
  received: 'in',
  returned: 'in',
  sold: 'out',
  damaged: 'out',
  correction: 'either',
};

function adjustStock(command: AdjustStock, item: PresentStockItem): StockItemEvent[] {
  const { delta, reason, note } = command;
  if (command.storeStatus === 'closed') throw new StoreNotOpen(command.storeId);
  if (!Number.isSafeInteger(delta)) throw new InvalidDelta('must be a whole number');
  if (delta === 0) throw new InvalidDelta('must not be zero');
  const direction = directionOf[reason];
  if (direction === 'in' && delta < 0) throw new InvalidDelta(`must be positive when the reason is ${reason}`);
  if (direction === 'out' && delta > 0) throw new InvalidDelta(`must be negative when the reason is ${reason}`);

  const quantityAfter = item.quantity + delta;
  // The decider sees the state at the revision it will append after; a racing writer
  // fails the expected-revision check and decides again, so this holds for every interleaving.
  if (quantityAfter < 0) throw new InsufficientStock(item.quantity, -delta);
  if (!Number.isSafeInteger(quantityAfter)) throw new InvalidDelta('would take the quantity beyond what can be counted');
  return [{ type: 'StockAdjusted', data: { delta, reason, note, reference: command.reference ?? null, quantityAfter } }];
}

function countStock(command: CountStock, item: PresentStockItem): StockItemEvent[] {
  const { countedQuantity, note } = command;
  checkCount('countedQuantity', countedQuantity);
  // A closed store holds nothing; a count of 0 stays open so that stock a receipt racing
  // the close left behind can still be written off (see docs/decisions.md).
  if (command.storeStatus === 'closed' && countedQuantity !== 0) throw new StoreNotOpen(command.storeId);
  const previousQuantity = item.quantity;
  // Recorded even when nothing changed: the count itself is what auditors look for.
  return [
    {
      type: 'StockCounted',
      data: { countedQuantity, previousQuantity, delta: countedQuantity - previousQuantity, note },
    },
  ];
}

function presentItem(state: StockItemState, { storeId, skuId }: StockItemCommand): PresentStockItem {
  if (state.status !== 'present') throw new NotFound('stock item', `${storeId}/${skuId}`);
  return state;
}

function checkCount(field: string, value: number): void {
  if (!isCount(value)) throw new InvalidValue(field, 'must be a whole number, 0 or more');
}
