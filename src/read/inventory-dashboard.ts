import type { DatabaseTransactionConnection, FragmentSqlToken } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { MOVEMENT_REASONS, type MovementReason } from '../shared/movement-reasons.js';
import { int8 } from './schemas.js';

/** The figures of the inventory dashboard beyond its first totals, each read from a table kept for it. */

const DAYS = 30;
const TOP = 10;

/**
 * Money as the API speaks it: a decimal string with at least two decimals, and no zeros
 * beyond them ("13.50", "12.375", "0.00"). Sums of prices keep their exact NUMERIC value.
 */
export function decimalText(value: string): string {
  const [whole = '0', fraction = ''] = value.split('.');
  return `${whole}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}

const money = z.string().regex(/^-?\d+\.\d{2,}$/).describe('A decimal string in the stores\' currency');
const inOut = z.object({ unitsIn: z.int(), unitsOut: z.int() });

export const storeFiguresView = z.object({
  storeId: z.uuid(),
  name: z.string(),
  items: z.int().describe('Items not removed'),
  units: z.int(),
  stockValue: money.describe('Units times the SKU\'s current price; a SKU without a price counts 0'),
  lowStockItems: z.int(),
  outOfStockItems: z.int(),
});

export const dayMovementsView = z.object({
  day: z.iso.date().describe('A UTC day'),
  unitsIn: z.int(),
  unitsOut: z.int(),
  byReason: z
    .object(Object.fromEntries(MOVEMENT_REASONS.map((reason) => [reason, inOut])) as Record<MovementReason, typeof inOut>)
    .describe('received, sold, damaged, returned, correction (adjustments); count (what a count found); added (the quantity an item starts with); removed (what it held when removed)'),
});

export const moverView = z.object({ skuId: z.uuid(), code: z.string(), name: z.string(), unitsOut: z.int(), unitsIn: z.int() });

export const dashboardFiguresView = z.object({
  stockValue: money.describe('Over every store: units times the SKU\'s current price, items not removed'),
  perStore: z.array(storeFiguresView).describe('Every store, by name'),
  movements: z.array(dayMovementsView).describe(`Units in and out on each of the last ${DAYS} UTC days, oldest first, today last; every day present`),
  topMovers: z
    .object({ last24h: z.array(moverView), last7d: z.array(moverView) })
    .describe(`The ${TOP} SKUs with most units out over every store, in whole UTC hours: the current hour and the 23 (or 167) before it`),
  generatedAt: z.iso.datetime().describe('The read model\'s clock when the report was made: the windows end here'),
});
export type DashboardFigures = z.infer<typeof dashboardFiguresView>;

const storeRow = z.object({
  store_id: z.string(),
  name: z.string(),
  items: z.number(),
  units: int8,
  stock_value: z.string(),
  low_stock_items: z.number(),
  out_of_stock_items: z.number(),
});
const movementRow = z.object({ day: z.string(), reason: z.enum(MOVEMENT_REASONS), units_in: int8, units_out: int8 });
const moverRow = z.object({ sku_id: z.string(), code: z.string(), name: z.string(), units_out: int8, units_in: int8 });
const clockRow = z.object({ now: z.number(), today: z.string() });

/** Reads the figures inside the caller's transaction (one snapshot with the totals beside them). */
export async function readDashboardFigures(
  tx: DatabaseTransactionConnection,
  table: (name: string) => FragmentSqlToken,
  /** kept: the read model has the top movers' windows (one made by the release before has not). */
  { kept = true }: { kept?: boolean } = {},
): Promise<DashboardFigures> {
  const clock = clockRow.parse(await tx.one(sql.unsafe`select now() as now, (now() at time zone 'utc')::date::text as today`));
  const perStore = (
    await tx.any(sql.unsafe`
      select st.id as store_id, st.name, coalesce(t.items, 0) as items, coalesce(t.units, 0)::bigint as units,
             coalesce(t.stock_value, 0)::text as stock_value, coalesce(t.low_stock_items, 0) as low_stock_items,
             coalesce(t.out_of_stock_items, 0) as out_of_stock_items
        from ${table('stores')} st left join ${table('store_totals')} t on t.store_id = st.id
       order by lower(st.name), st.id`)
  ).map((raw) => {
    const row = storeRow.parse(raw);
    return {
      storeId: row.store_id,
      name: row.name,
      items: row.items,
      units: row.units,
      stockValue: decimalText(row.stock_value),
      lowStockItems: row.low_stock_items,
      outOfStockItems: row.out_of_stock_items,
    };
  });
  const stockValue = z.string().parse(await tx.oneFirst(sql.unsafe`select coalesce(sum(stock_value), 0)::text from ${table('store_totals')}`));
  return {
    stockValue: decimalText(stockValue),
    perStore,
    movements: await readMovements(tx, table, clock.today),
    topMovers: { last24h: await readTopMovers(tx, table, 24, kept), last7d: await readTopMovers(tx, table, 7 * 24, kept) },
    generatedAt: new Date(clock.now).toISOString(),
  };
}

const utcDay = (day: string, offset: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

async function readMovements(tx: DatabaseTransactionConnection, table: (name: string) => FragmentSqlToken, today: string) {
  const first = utcDay(today, -(DAYS - 1));
  const rows = (await tx.any(sql.unsafe`
    select day::text as day, reason, units_in, units_out from ${table('movements_daily')}
     where day between ${first}::date and ${today}::date`)).map((raw) => movementRow.parse(raw));
  return Array.from({ length: DAYS }, (_, index) => {
    const day = utcDay(first, index);
    const byReason = Object.fromEntries(MOVEMENT_REASONS.map((reason) => [reason, { unitsIn: 0, unitsOut: 0 }])) as Record<MovementReason, z.infer<typeof inOut>>;
    let unitsIn = 0;
    let unitsOut = 0;
    for (const row of rows) {
      if (row.day !== day) continue;
      byReason[row.reason] = { unitsIn: row.units_in, unitsOut: row.units_out };
      unitsIn += row.units_in;
      unitsOut += row.units_out;
    }
    return { day, unitsIn, unitsOut, byReason };
  });
}

/** The columns of `sku_movement_windows` kept for each window the dashboard shows. */
const keptWindows: Record<number, { unitsIn: string; unitsOut: string }> = {
  24: { unitsIn: 'units_in_24h', unitsOut: 'units_out_24h' },
  [7 * 24]: { unitsIn: 'units_in_7d', unitsOut: 'units_out_7d' },
};

async function readTopMovers(tx: DatabaseTransactionConnection, table: (name: string) => FragmentSqlToken, hours: number, keptExist: boolean) {
  const kept = keptExist ? keptWindows[hours] : undefined;
  // The sums the projector keeps, while their clock is this hour: the top from the front
  // of an index. A SKU whose row is not there yet (its item applied first from another
  // partition) has no code to show: the sums over the hourly rows answer then, as when the
  // clock is behind (no units moved since the hour began).
  if (kept && (await tx.exists(sql.unsafe`select 1 from ${table('movement_window_clock')} where hour = date_trunc('hour', now(), 'UTC')`))) {
    const unitsIn = sql.identifier(['w', kept.unitsIn]);
    const unitsOut = sql.identifier(['w', kept.unitsOut]);
    const top = await tx.any(sql.unsafe`
      select t.sku_id, k.code, k.name, t.units_out, t.units_in
        from (select w.sku_id, ${unitsOut} as units_out, ${unitsIn} as units_in
                from ${table('sku_movement_windows')} w
               where ${unitsOut} > 0 or ${unitsIn} > 0
               order by ${unitsOut} desc, ${unitsIn} desc, w.sku_id
               limit ${TOP}) t
        left join ${table('skus')} k on k.id = t.sku_id
       order by t.units_out desc, t.units_in desc, t.sku_id`);
    if (top.every((row) => row['code'] !== null)) return top.map(toMover);
  }
  const rows = await tx.any(sql.unsafe`
    select h.sku_id, k.code, k.name, sum(h.units_out)::bigint as units_out, sum(h.units_in)::bigint as units_in
      from ${table('sku_movements_hourly')} h join ${table('skus')} k on k.id = h.sku_id
     where h.hour >= date_trunc('hour', now(), 'UTC') - make_interval(hours => ${hours - 1})
     group by h.sku_id, k.code, k.name
     order by units_out desc, units_in desc, h.sku_id
     limit ${TOP}`);
  return rows.map(toMover);
}

function toMover(raw: Record<string, unknown>) {
  const row = moverRow.parse(raw);
  return { skuId: row.sku_id, code: row.code, name: row.name, unitsOut: row.units_out, unitsIn: row.units_in };
}
