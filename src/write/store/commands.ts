import type { StockLeft } from '../stock-remains.js';

/** Every command names the store it is for, so that a refusal can say which one. */
export interface OpenStore {
  type: 'OpenStore';
  storeId: string;
  name: string;
  code: string | null;
  address: string | null;
}

export interface RenameStore {
  type: 'RenameStore';
  storeId: string;
  name: string;
}

/** Left out: unchanged; null: cleared. At least one field must be given. */
export interface ChangeStoreDetails {
  type: 'ChangeStoreDetails';
  storeId: string;
  code?: string | null;
  address?: string | null;
}

export interface CloseStore {
  type: 'CloseStore';
  storeId: string;
  /** The store's stock items as the route read them from their streams. */
  stock: readonly StockLeft[];
}

export type StoreCommand = OpenStore | RenameStore | ChangeStoreDetails | CloseStore;
