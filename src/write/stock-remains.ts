import { RuleViolated } from '../shared/errors.js';

/** An item that still holds stock, as the command that would end its store or SKU saw it. */
export interface StockLeft {
  storeId: string;
  skuId: string;
  quantity: number;
}

/**
 * A store is closed, or a SKU deleted, only once no stock remains in it: otherwise the
 * units would still count in the inventory and could still be sold, of something that no
 * longer exists. Sell, transfer or write the stock off (a `StockCounted` of 0) first.
 */
export class StockRemains extends RuleViolated {
  constructor(what: 'store' | 'sku', id: string, items: readonly StockLeft[]) {
    const units = items.reduce((sum, item) => sum + item.quantity, 0);
    super('stock-remains', `${what === 'store' ? 'Store' : 'SKU'} ${id} still holds ${units} unit(s) in ${items.length} item(s); write them off or move them first.`, {
      errors: items.map((item) => ({
        field: what === 'store' ? `items.${item.skuId}` : `items.${item.storeId}`,
        reason: `holds ${item.quantity} unit(s) (store ${item.storeId}, SKU ${item.skuId})`,
      })),
      items,
    });
  }
}

/** The items that hold stock, or nothing: the check the deciders make. */
export const withStock = (items: readonly StockLeft[]): StockLeft[] => items.filter((item) => item.quantity > 0);
