export interface KnownStore {
  storeId: string;
  name: string;
  code: string | null;
  address: string | null;
}

export type OpenedStore = KnownStore & { status: 'open' };
export type ClosedStore = KnownStore & { status: 'closed' };

/** Plain data only, so that it can be cached and snapshotted as JSON. */
export type StoreState = { status: 'absent' } | OpenedStore | ClosedStore;

export const initialState = (): StoreState => ({ status: 'absent' });
