import type { StoreEvent } from '../../shared/events/store.js';
import type { StoreState } from './state.js';

export function evolve(state: StoreState, event: StoreEvent): StoreState {
  if (event.type === 'StoreOpened') return { status: 'open', ...event.data };
  // History only holds these after StoreOpened; an absent store has nothing to change.
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'StoreRenamed':
      return { ...state, name: event.data.name };
    case 'StoreDetailsChanged':
      return {
        ...state,
        code: event.data.code === undefined ? state.code : event.data.code,
        address: event.data.address === undefined ? state.address : event.data.address,
      };
    case 'StoreClosed':
      return { ...state, status: 'closed' };
  }
}
