/** What every read model, the live feed and the mailer know of one stock item (one SKU in one store). */
export interface StockLevel {
  storeId: string;
  skuId: string;
  quantity: number;
  lowStockThreshold: number;
  removed: boolean;
  revision: number;
  position: bigint;
}
