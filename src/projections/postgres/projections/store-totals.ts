import { type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod/v4';
import { itemOfStream, STOCK_ITEM_CATEGORY } from '../../../shared/hot-model/keys.js';
import { streamCategory } from '../../../shared/event-store/port.js';
import { type AppliedEventsProjection, idOfStream } from '../projection.js';

/**
 * Per store: items not removed, their units, their value at the SKUs' current prices, and
 * how many are low or out. A sum over many streams and over the SKUs' prices, so it is
 * recomputed from `stock` and `skus`, not evolved: for the stores whose items a batch
 * changed, and for every store holding a SKU whose price a batch set.
 */
export const storeTotalsProjection: AppliedEventsProjection = {
  name: 'store totals',

  async apply(tx, schema, applied) {
    const items = new Map<string, { storeId: string; skuId: string }>();
    const pricedSkuIds = new Set<string>();
    for (const { event, recorded } of applied) {
      if (streamCategory(recorded.streamId) === STOCK_ITEM_CATEGORY) items.set(recorded.streamId, itemOfStream(recorded.streamId));
      // A created SKU may already be held: its item can be applied from another partition first.
      else if (event.type === 'SkuCreated' || (event.type === 'SkuUpdated' && event.data.price !== undefined)) {
        pricedSkuIds.add(idOfStream(recorded.streamId));
      }
    }
    if (items.size === 0 && pricedSkuIds.size === 0) return;
    await refreshStoreTotals(tx, schema, { items: [...items.values()], pricedSkuIds: [...pricedSkuIds] });
  },
};

/**
 * Recomputes the totals of the stores whose items changed and of the stores holding a
 * priced SKU.
 *
 * Two replicas apply a store's items and a SKU's price from different partitions at once,
 * and each computes without the other's uncommitted rows. Locks make the later one wait,
 * and its next statement then sees the earlier one's rows: one per SKU (for the SKUs of
 * the items changed and the SKUs priced: a price set while its SKU is being added to a
 * store that the price's batch cannot see yet), then one per store (two batches
 * recomputing one store). Each kind is taken in one statement in one order, SKUs before
 * stores, after every other lock of the batch: every transaction climbs the same ladder,
 * so none waits for another in a cycle.
 */
export async function refreshStoreTotals(
  tx: DatabaseTransactionConnection,
  schema: string,
  changes: { items: readonly { storeId: string; skuId: string }[]; pricedSkuIds: readonly string[] },
): Promise<void> {
  const stock = sql.identifier([schema, 'stock']);
  await lockAll(tx, `stockroom.store_totals.sku:${schema}:`, [...changes.items.map((item) => item.skuId), ...changes.pricedSkuIds]);
  // Read after the SKU locks: an item of a priced SKU committed meanwhile is found now.
  const storeIds = z.array(z.string()).parse(
    await tx.anyFirst(sql.unsafe`
      select store_id::text from ${stock} where sku_id = any(${sql.array([...changes.pricedSkuIds], 'uuid')})
      union select unnest(${sql.array(changes.items.map((item) => item.storeId), 'uuid')})::text`),
  );
  await lockAll(tx, `stockroom.store_totals.store:${schema}:`, storeIds);
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([schema, 'store_totals'])} as t
      (store_id, items, units, stock_value, low_stock_items, out_of_stock_items, updated_at)
    select s.store_id,
           count(*) filter (where not s.removed),
           coalesce(sum(s.quantity) filter (where not s.removed), 0),
           coalesce(sum(s.quantity * coalesce(k.price, 0)) filter (where not s.removed), 0),
           count(*) filter (where not s.removed and s.quantity <= s.low_stock_threshold),
           count(*) filter (where not s.removed and s.quantity = 0),
           now()
      from ${stock} s left join ${sql.identifier([schema, 'skus'])} k on k.id = s.sku_id
     where s.store_id = any(${sql.array(storeIds, 'uuid')})
     group by s.store_id
    on conflict (store_id) do update set
      items = excluded.items, units = excluded.units, stock_value = excluded.stock_value,
      low_stock_items = excluded.low_stock_items, out_of_stock_items = excluded.out_of_stock_items, updated_at = excluded.updated_at`);
}

async function lockAll(tx: DatabaseTransactionConnection, prefix: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(sql.unsafe`
    select pg_advisory_xact_lock(h) from (
      select distinct hashtext(${prefix} || id) as h from unnest(${sql.array([...ids], 'text')}) id order by h
    ) locks`);
}
