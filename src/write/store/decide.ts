import { NothingToChange, StoreIsClosed } from '../../shared/domain-errors.js';
import { AlreadyExists, NotFound } from '../../shared/errors.js';
import type { StoreEvent } from '../../shared/events/store.js';
import { changedFields, isEmpty, isEmptyPatch } from '../patch.js';
import { StockRemains, withStock } from '../stock-remains.js';
import type { ChangeStoreDetails, StoreCommand } from './commands.js';
import type { OpenedStore, StoreState } from './state.js';

export function decide(command: StoreCommand, state: StoreState): StoreEvent[] {
  switch (command.type) {
    case 'OpenStore': {
      if (state.status !== 'absent') throw new AlreadyExists('store', command.storeId);
      const { storeId, name, code, address } = command;
      return [{ type: 'StoreOpened', data: { storeId, name, code, address } }];
    }
    case 'RenameStore': {
      const store = openStore(state, command.storeId);
      return store.name === command.name ? [] : [{ type: 'StoreRenamed', data: { name: command.name } }];
    }
    case 'ChangeStoreDetails':
      return changeDetails(command, openStore(state, command.storeId));
    case 'CloseStore': {
      openStore(state, command.storeId);
      const left = withStock(command.stock);
      if (left.length > 0) throw new StockRemains('store', command.storeId, left);
      return [{ type: 'StoreClosed', data: {} }];
    }
  }
}

function changeDetails(command: ChangeStoreDetails, store: OpenedStore): StoreEvent[] {
  const patch = { code: command.code, address: command.address };
  if (isEmptyPatch(patch)) throw new NothingToChange(Object.keys(patch));
  const changes = changedFields(store, patch);
  return isEmpty(changes) ? [] : [{ type: 'StoreDetailsChanged', data: changes }];
}

/** A closed store keeps its history but takes no more changes. */
function openStore(state: StoreState, storeId: string): OpenedStore {
  if (state.status === 'absent') throw new NotFound('store', storeId);
  if (state.status === 'closed') throw new StoreIsClosed(storeId);
  return state;
}
