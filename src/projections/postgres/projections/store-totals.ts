import { type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod/v4';
import { STOCK_ITEM_CATEGORY } from '../../../shared/hot-model/keys.js';
import { readTexts } from '../batched-writes.js';
import type { AppliedEventsProjection, RowChange } from '../projection.js';
import type { SkuRow } from './skus.js';
import type { StockRow } from './stock.js';

const SKU_CATEGORY = 'sku';

/**
 * Per store: items not removed, their units, their value at the SKUs' current prices, and
 * how many are low or out. Kept by difference, not summed again: each stock row a batch
 * changed adds what it counts now minus what it counted before, and each SKU whose price
 * a batch changed adds its items' units times the change of price. The changes come from
 * the same folds as the applied events, so a repeat changes nothing and counts nothing;
 * a batch costs what it changed, however many items the store holds.
 */
export const storeTotalsProjection: AppliedEventsProjection = {
  name: 'store totals',

  async apply(tx, schema, _applied, changes, { exclusive }) {
    const { items, prices } = storeTotalsDeltas(changes);
    if (items.length === 0 && prices.length === 0) return;
    await addStoreTotals(tx, schema, items, prices, exclusive);
  },
};

/** What a batch's changes add to the store totals: the items' differences, and the SKUs' changes of price. */
export function storeTotalsDeltas(changes: readonly RowChange[]): { items: ItemDelta[]; prices: PriceDelta[] } {
  const items: ItemDelta[] = [];
  const prices: PriceDelta[] = [];
  for (const change of changes) {
    if (change.category === STOCK_ITEM_CATEGORY) {
      const delta = itemDelta(change.before as StockRow | null, change.after as StockRow);
      if (delta) items.push(delta);
    } else if (change.category === SKU_CATEGORY) {
      // A created SKU may already be held (its item applied from another partition
      // first, valued at 0 then): from no row to a price is a change of price too.
      const before = (change.before as SkuRow | null)?.price ?? '0';
      const after = (change.after as SkuRow).price ?? '0';
      if (before !== after) prices.push({ sku_id: (change.after as SkuRow).id, price_before: before, price_after: after });
    }
  }
  return { items, prices };
}

interface Counted {
  items: number;
  units: number;
  low: number;
  out: number;
}

/** What one stock row counts in its store's totals (its units are also what its value is the price of). */
const counted = (row: StockRow | null): Counted =>
  !row || row.removed
    ? { items: 0, units: 0, low: 0, out: 0 }
    : { items: 1, units: row.quantity, low: row.quantity <= row.lowStockThreshold ? 1 : 0, out: row.quantity === 0 ? 1 : 0 };

export interface ItemDelta extends Counted {
  store_id: string;
  sku_id: string;
}

export interface PriceDelta {
  sku_id: string;
  price_before: string;
  price_after: string;
}

function itemDelta(before: StockRow | null, after: StockRow): ItemDelta | null {
  const was = counted(before);
  const is = counted(after);
  const delta = { items: is.items - was.items, units: is.units - was.units, low: is.low - was.low, out: is.out - was.out };
  if (delta.items === 0 && delta.units === 0 && delta.low === 0 && delta.out === 0) return null;
  return { store_id: after.storeId, sku_id: after.skuId, ...delta };
}

/**
 * Adds the differences to the stores' rows.
 *
 * Two replicas apply a store's item and its SKU's price from different partitions at once.
 * A lock per SKU (of the items changed and the SKUs priced) makes the later one wait, and
 * its next statement sees the earlier one's rows: an item is valued at the price committed
 * when it gets the lock, and a change of price multiplies the units committed when it gets
 * it, so whichever comes first the sum is units after times price after. Within one batch
 * that changes both, the items are valued at the price before the batch, and the price
 * change multiplies the units after it: the same sum. The SKU locks are taken in one
 * statement in one order, then the store rows in store order, after every other lock of the
 * batch: every transaction climbs the same ladder, so none waits for another in a cycle.
 */
export async function addStoreTotals(tx: DatabaseTransactionConnection, schema: string, items: readonly ItemDelta[], prices: readonly PriceDelta[], exclusive: boolean): Promise<void> {
  // An exclusive projector has no other replica to order against.
  if (!exclusive) await lockAll(tx, `stockroom.store_totals.sku:${schema}:`, [...items.map((item) => item.sku_id), ...prices.map((price) => price.sku_id)]);
  await tx.query(sql.unsafe`
    with item as (
      select * from jsonb_to_recordset(${JSON.stringify(items)}::jsonb)
        as x(store_id uuid, sku_id uuid, items integer, units bigint, low integer, "out" integer)
    ), price as (
      select * from jsonb_to_recordset(${JSON.stringify(prices)}::jsonb) as x(sku_id uuid, price_before numeric, price_after numeric)
    ), delta as (
      select i.store_id, i.items, i.units, i.units * coalesce(case when p.sku_id is null then k.price else p.price_before end, 0) as value, i.low, i."out"
        from item i
        left join ${sql.identifier([schema, 'skus'])} k on k.id = i.sku_id
        left join price p on p.sku_id = i.sku_id
      union all
      select s.store_id, 0, 0, s.quantity * (p.price_after - p.price_before), 0, 0
        from price p join ${sql.identifier([schema, 'stock'])} s on s.sku_id = p.sku_id
       where not s.removed
    )
    insert into ${sql.identifier([schema, 'store_totals'])} as t
      (store_id, items, units, stock_value, low_stock_items, out_of_stock_items, updated_at)
    select store_id, sum(items), sum(units), sum(value), sum(low), sum("out"), now()
      from delta group by store_id order by store_id
    on conflict (store_id) do update set
      items = t.items + excluded.items, units = t.units + excluded.units, stock_value = t.stock_value + excluded.stock_value,
      low_stock_items = t.low_stock_items + excluded.low_stock_items, out_of_stock_items = t.out_of_stock_items + excluded.out_of_stock_items,
      updated_at = excluded.updated_at`);
}

/**
 * Recomputes the totals of the stores whose items changed and of the stores holding a
 * priced SKU from every row they hold: for a read model whose rows were written some other
 * way (test seeds) or to check the kept ones. The projector adds differences instead.
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
  const storeIds = await readTexts(
    tx,
    sql.unsafe`
      select store_id::text from ${stock} where sku_id = any(${sql.array([...changes.pricedSkuIds], 'uuid')})
      union select unnest(${sql.array(changes.items.map((item) => item.storeId), 'uuid')})::text`,
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
