import type { StockLeft } from '../stock-remains.js';
/** Every command names the SKU it is for, so that a refusal can say which one. */
export interface CreateSku {
  type: 'CreateSku';
  skuId: string;
  /** Already reserved by the caller in its reservation stream: unique across SKUs. */
  code: string;
  name: string;
  category: string | null;
  /** The caller fills in the default ("each") when the client gives none. */
  unit: string;
  /** A decimal string such as "12.50", in the store's currency. */
  price: string | null;
  lowStockThreshold: number;
}

/** Left out: unchanged; null: cleared. At least one field must be given. The code never changes. */
export interface UpdateSku {
  type: 'UpdateSku';
  skuId: string;
  name?: string;
  category?: string | null;
  unit?: string;
  price?: string | null;
  lowStockThreshold?: number;
}

export interface DeleteSku {
  type: 'DeleteSku';
  skuId: string;
  /** The SKU's stock items in every store, as the route read them from their streams. */
  stock: readonly StockLeft[];
}

export type SkuCommand = CreateSku | UpdateSku | DeleteSku;
