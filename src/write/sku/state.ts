export interface KnownSku {
  skuId: string;
  /** Kept so that deleting the SKU can release its code's reservation. */
  code: string;
  name: string;
  category: string | null;
  unit: string;
  price: string | null;
  lowStockThreshold: number;
}

export type ActiveSku = KnownSku & { status: 'active' };
export type DeletedSku = KnownSku & { status: 'deleted' };

/** Plain data only, so that it can be cached and snapshotted as JSON. */
export type SkuState = { status: 'absent' } | ActiveSku | DeletedSku;

export const initialState = (): SkuState => ({ status: 'absent' });
