import { type DatabaseTransactionConnection, sql } from 'slonik';
import { streamCategory } from '../../../shared/event-store/port.js';
import { itemOfStream } from '../../../shared/hot-model/keys.js';
import { evolveStockLevel, type StockLevel, stockLevelCodec, stockLevelRow } from '../../stock-level.js';
import type { AppliedEventsProjection } from '../projection.js';

/**
 * Every level a stock item has had: one row per event of its stream, with the quantity and
 * threshold after it, so "the stock as of position P" is one index probe per item (the last
 * row at or before P) however long the history (docs/decisions.md, "Stock as of a moment").
 * Rows are only ever added, each once: the projector hands over the events it applied, never
 * a repeat, and a row that is there already is left alone.
 */
export const stockLedgerProjection: AppliedEventsProjection = {
  name: 'stock_ledger',

  async apply(tx, schema, applied) {
    const items = applied.filter(({ recorded }) => streamCategory(recorded.streamId) === 'stockitem');
    if (items.length === 0) return;
    const levels = await latestLevels(tx, schema, [...new Set(items.map(({ recorded }) => recorded.streamId))]);
    const rows: StockLevel[] = [];
    for (const { event, recorded } of items) {
      const level = evolveStockLevel(levels.get(recorded.streamId) ?? null, event, recorded, {});
      if (!level || level.revision !== recorded.revision) continue;
      levels.set(recorded.streamId, level);
      rows.push(level);
    }
    if (rows.length === 0) return;
    const payload = JSON.stringify(rows.map(stockLevelCodec.encode));
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([schema, 'stock_ledger'])} (store_id, sku_id, position, revision, quantity, low_stock_threshold, removed)
      select store_id, sku_id, position, revision, quantity, low_stock_threshold, removed
        from jsonb_to_recordset(${payload}::jsonb) as x(store_id uuid, sku_id uuid, position bigint, revision bigint,
             quantity bigint, low_stock_threshold integer, removed boolean)
      on conflict do nothing`);
  },
};

/** The newest ledger row of each stream: the level its next event starts from. */
async function latestLevels(tx: DatabaseTransactionConnection, schema: string, streamIds: string[]): Promise<Map<string, StockLevel>> {
  const keys = streamIds.map(itemOfStream);
  const rows = await tx.any(sql.unsafe`
    select l.* from unnest(${sql.array(keys.map((k) => k.storeId), 'uuid')}, ${sql.array(keys.map((k) => k.skuId), 'uuid')}) as k(store_id, sku_id)
    cross join lateral (
      select store_id, sku_id, quantity, low_stock_threshold, removed, revision, position
        from ${sql.identifier([schema, 'stock_ledger'])} l
       where l.store_id = k.store_id and l.sku_id = k.sku_id
       order by l.position desc limit 1) l`);
  const levels = new Map<string, StockLevel>();
  for (const raw of rows) {
    const level = stockLevelRow.parse(raw);
    levels.set(`stockitem-${level.storeId}_${level.skuId}`, level);
  }
  return levels;
}
