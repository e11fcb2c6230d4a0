import { type DatabaseTransactionConnection, sql } from 'slonik';
import { itemOfStream } from '../../../shared/hot-model/keys.js';
import { stockItemStream } from '../../../shared/streams.js';
import { evolveStockLevel, type StockLevel, stockLevelColumns } from '../../stock-level.js';
import type { RowProjection } from '../projection.js';
import { column, rowCodec } from '../row-codec.js';

export interface StockRow extends StockLevel {
  updatedAt: Date;
}

const stockRows = rowCodec<StockRow>({ ...stockLevelColumns, updatedAt: column.timestamp });

/** Stock per store, and the overall summary per SKU recomputed for the SKUs a batch touched. */
export const stockProjection: RowProjection<StockRow> = {
  category: 'stockitem',

  rows: stockRows,
  table: 'stock',
  select: (schema, streamIds) => {
    const keys = streamIds.map(itemOfStream);
    return sql.unsafe`
      select s.* from ${sql.identifier([schema, 'stock'])} s
      join unnest(${sql.array(keys.map((k) => k.storeId), 'uuid')}, ${sql.array(keys.map((k) => k.skuId), 'uuid')}) as k(store_id, sku_id)
        on s.store_id = k.store_id and s.sku_id = k.sku_id`;
  },
  streamOf: (row) => stockItemStream(row.storeId, row.skuId),
  // Read across batches only by the store totals of a change of price, which comes with a
  // changed SKU row: such a batch saves every held row first.
  deferrable: true,

  evolve: (row, event, recorded) => evolveStockLevel(row, event, recorded, { updatedAt: recorded.recordedAt }),

  async save(tx, schema, rows, { exclusive }) {
    if (rows.length === 0) return;
    const payload = JSON.stringify(rows.map(stockRows.encode));
    const stock = sql.identifier([schema, 'stock']);
    await tx.query(sql.unsafe`
      insert into ${stock} as t (store_id, sku_id, quantity, low_stock_threshold, removed, revision, position, updated_at)
      select store_id, sku_id, quantity, low_stock_threshold, removed, revision, position, updated_at
        from jsonb_to_recordset(${payload}::jsonb) as x(store_id uuid, sku_id uuid, quantity bigint, low_stock_threshold integer,
             removed boolean, revision bigint, position bigint, updated_at timestamptz)
      on conflict (store_id, sku_id) do update set
        quantity = excluded.quantity, low_stock_threshold = excluded.low_stock_threshold, removed = excluded.removed,
        revision = excluded.revision, position = excluded.position, updated_at = excluded.updated_at
      where t.revision < excluded.revision`);
    await refreshSummary(tx, schema, [...new Set(rows.map((row) => row.skuId))], exclusive);
  },
};

/** The summary is a sum over many streams, so it is recomputed from the stock rows, not evolved. */
async function refreshSummary(tx: DatabaseTransactionConnection, schema: string, skuIds: string[], exclusive: boolean): Promise<void> {
  // Two replicas apply items of one SKU from different partitions at once; each would sum
  // without the other's uncommitted row. A lock per SKU (taken in one order, so no
  // deadlock) makes the second wait, and its next statement then sees the first's rows.
  // An exclusive projector has no other replica.
  if (!exclusive) await tx.query(sql.unsafe`
    select pg_advisory_xact_lock(h) from (
      select distinct hashtext('stockroom.summary:' || s) as h from unnest(${sql.array(skuIds, 'text')}) s
    ) locks order by h`);
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([schema, 'stock_summary'])} as t
      (sku_id, total_quantity, store_count, low_stock_store_count, position, updated_at)
    select sku_id,
           coalesce(sum(quantity) filter (where not removed), 0),
           count(*) filter (where not removed),
           count(*) filter (where not removed and quantity <= low_stock_threshold),
           max(position), max(updated_at)
      from ${sql.identifier([schema, 'stock'])}
     where sku_id = any(${sql.array(skuIds, 'uuid')})
     group by sku_id
    on conflict (sku_id) do update set
      total_quantity = excluded.total_quantity, store_count = excluded.store_count,
      low_stock_store_count = excluded.low_stock_store_count, position = excluded.position, updated_at = excluded.updated_at`);
}
