export interface KnownStockItem {
  storeId: string;
  skuId: string;
  quantity: number;
  lowStockThreshold: number;
}

export type PresentStockItem = KnownStockItem & { status: 'present' };
export type RemovedStockItem = KnownStockItem & { status: 'removed' };

/**
 * Only what decisions need. A stock item's stream grows for years, so this state is what
 * gets cached by revision or snapshotted: plain data, JSON as it is.
 */
export type StockItemState = { status: 'absent' } | PresentStockItem | RemovedStockItem;

export const initialState = (): StockItemState => ({ status: 'absent' });
