import type { SkuEvent } from '../../shared/events/sku.js';
import type { SkuState } from './state.js';

export function evolve(state: SkuState, event: SkuEvent): SkuState {
  if (event.type === 'SkuCreated') return { status: 'active', ...event.data };
  // History only holds these after SkuCreated; an absent SKU has nothing to change.
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'SkuUpdated': {
      const { name, category, unit, price, lowStockThreshold } = event.data;
      return {
        ...state,
        name: name ?? state.name,
        category: category === undefined ? state.category : category,
        unit: unit ?? state.unit,
        price: price === undefined ? state.price : price,
        lowStockThreshold: lowStockThreshold ?? state.lowStockThreshold,
      };
    }
    case 'SkuDeleted':
      return { ...state, status: 'deleted' };
  }
}
