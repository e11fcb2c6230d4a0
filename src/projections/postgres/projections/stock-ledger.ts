import { sql } from 'slonik';
import { streamCategory } from '../../../shared/event-store/port.js';
import { STOCK_ITEM_CATEGORY } from '../../../shared/hot-model/keys.js';
import type { StockLevel } from '../../stock-level.js';
import type { AppliedEventsProjection } from '../projection.js';

/**
 * Every level a stock item has had: one row per event of its stream, with the quantity and
 * threshold after it, so "the stock as of position P" is one index probe per item (the last
 * row at or before P) however long the history (docs/decisions.md, "Stock as of a moment").
 * Rows are only ever added, each once: the projector hands over the events it applied, never
 * a repeat, and a row that is there already is left alone.
 */
/**
 * The ledger rows of a batch: the level after each stock event is the stock row its
 * projection folded, so the ledger's newest row and the stock row move together.
 */
export function ledgerLevels(applied: Parameters<AppliedEventsProjection['apply']>[2]): StockLevel[] {
  const levels: StockLevel[] = [];
  for (const { recorded, row } of applied) {
    if (streamCategory(recorded.streamId) !== STOCK_ITEM_CATEGORY) continue;
    const level = row as StockLevel | null;
    if (level && level.revision === recorded.revision) levels.push(level);
  }
  return levels;
}

export const stockLedgerProjection: AppliedEventsProjection = {
  name: 'stock_ledger',

  async apply(tx, schema, applied) {
    const levels = ledgerLevels(applied);
    if (levels.length === 0) return;
    // Arrays rather than JSON: one row per stock event, the read model's biggest table.
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([schema, 'stock_ledger'])} (store_id, sku_id, position, revision, quantity, low_stock_threshold, removed)
      select * from unnest(
        ${sql.array(levels.map((level) => level.storeId), 'uuid')}, ${sql.array(levels.map((level) => level.skuId), 'uuid')},
        ${sql.array(levels.map((level) => level.position.toString()), 'int8')}, ${sql.array(levels.map((level) => level.revision), 'int8')},
        ${sql.array(levels.map((level) => level.quantity), 'int8')}, ${sql.array(levels.map((level) => level.lowStockThreshold), 'int4')},
        ${sql.array(levels.map((level) => level.removed), 'bool')})
      on conflict do nothing`);
  },
};
