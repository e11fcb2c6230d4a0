import type { StockItemEvent } from '../../shared/events/stock-item.js';
import type { StockItemState } from './state.js';

export function evolve(state: StockItemState, event: StockItemEvent): StockItemState {
  // Adding again after a removal starts afresh: nothing of the old level carries over.
  if (event.type === 'StockItemAdded') return { status: 'present', ...event.data };
  // History only holds these after StockItemAdded; an absent item has nothing to change.
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'StockAdjusted':
      return { ...state, quantity: event.data.quantityAfter };
    case 'StockCounted':
      return { ...state, quantity: event.data.countedQuantity };
    case 'LowStockThresholdChanged':
      return { ...state, lowStockThreshold: event.data.lowStockThreshold };
    case 'StockItemRemoved':
      return { ...state, status: 'removed', quantity: 0 };
  }
}
