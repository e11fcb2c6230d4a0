import type { AdjustmentReason } from '../../shared/events/stock-item.js';

/**
 * A stock item is one SKU in one store. Every command names both, so that a refusal
 * can say which item it was about.
 */
interface ForItem {
  storeId: string;
  skuId: string;
}

/**
 * Facts about other aggregates come on the command, read by the caller just before
 * deciding: the decider never reads another stream itself.
 */
export type StoreStatus = 'absent' | 'open' | 'closed';

export interface AddStockItem extends ForItem {
  type: 'AddStockItem';
  quantity: number;
  lowStockThreshold: number;
  /** The store's status as its own stream tells it ('absent' when there is no such store). */
  storeStatus: StoreStatus;
  skuExists: boolean;
}

/** A change relative to the current level, so that it commutes with other adjustments. */
export interface AdjustStock extends ForItem {
  type: 'AdjustStock';
  delta: number;
  reason: AdjustmentReason;
  note: string | null;
  /** The document behind the movement (order, delivery note, count sheet). */
  reference?: string | null;
  /**
   * The store's status as this process recently saw it: a closed store moves no stock.
   * The HTTP route always gives it; left out (tools and tests writing to a store they
   * made) it is not checked.
   */
  storeStatus?: StoreStatus;
}

/** What a person counted on the shelf: it replaces the level, whatever it was. */
export interface CountStock extends ForItem {
  type: 'CountStock';
  countedQuantity: number;
  note: string | null;
  /** As on AdjustStock: on a closed store only a count of 0 (a write-off) is taken. */
  storeStatus?: StoreStatus;
}

export interface ChangeLowStockThreshold extends ForItem {
  type: 'ChangeLowStockThreshold';
  lowStockThreshold: number;
}

export interface RemoveStockItem extends ForItem {
  type: 'RemoveStockItem';
}

export type StockItemCommand = AddStockItem | AdjustStock | CountStock | ChangeLowStockThreshold | RemoveStockItem;
