import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod/v4';
import { principalOf } from '../shared/auth/plugin.js';
import { requireRole } from '../shared/auth/principal.js';
import { dashboardFiguresView, readDashboardFigures } from './inventory-dashboard.js';
import { minPositionHeaders } from './min-position.js';
import { int8, noQuery, type ReadContext, readErrors } from './schemas.js';

const LOWEST = 10;

const lowItemView = z.object({
  storeId: z.uuid(),
  storeName: z.string(),
  skuId: z.uuid(),
  code: z.string(),
  name: z.string(),
  quantity: z.int(),
  lowStockThreshold: z.int(),
  margin: z.int().describe('quantity - lowStockThreshold: 0 or less is low stock'),
});

export const inventoryReportView = dashboardFiguresView.extend({
  stores: z.int(),
  openStores: z.int(),
  skus: z.int().describe('SKUs not deleted'),
  items: z.int().describe('SKUs held in stores (stock items not removed)'),
  unitsInStock: z.int(),
  lowStockItems: z.int().describe('Items at or below their threshold'),
  outOfStockItems: z.int(),
  lowest: z.array(lowItemView).describe(`The ${LOWEST} items lowest relative to their threshold`),
  readPosition: z.string().describe('The global position the read model had applied when the report was made'),
});

const totalsRow = z.object({
  stores: int8,
  open_stores: int8,
  skus: int8,
  items: int8,
  units: int8,
  low_stock_items: int8,
  out_of_stock_items: int8,
  read_position: z.string(),
});

const lowRow = z.object({
  store_id: z.string(),
  store_name: z.string(),
  sku_id: z.string(),
  code: z.string(),
  name: z.string(),
  quantity: int8,
  low_stock_threshold: z.number(),
});

export const reportReadRoutes: FastifyPluginAsyncZod<ReadContext> = async (app, { pool, table, schema }) => {
  app.get(
    '/api/reports/inventory',
    {
      schema: {
        tags: ['reports'],
        summary: 'Inventory dashboard (manager, auditor)',
        headers: minPositionHeaders,
        querystring: noQuery,
        response: { 200: inventoryReportView, ...readErrors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), 'manager', 'auditor');
      // Read in one transaction at one snapshot: the totals and the list agree with each other.
      return pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`set transaction isolation level repeatable read, read only`);
        const kept = await keptFiguresExist(tx, schema);
        const skus = kept
          ? sql.fragment`(select coalesce(sum(live_skus), 0) from ${table('catalog_totals')})::bigint`
          : sql.fragment`(select count(*) from ${table('skus')} where not deleted)`;
        const totals = totalsRow.parse(
          await tx.one(sql.unsafe`
            select (select count(*) from ${table('stores')}) as stores,
                   (select count(*) from ${table('stores')} where status = 'open') as open_stores,
                   ${skus} as skus,
                   st.items, st.units, st.low_stock_items, st.out_of_stock_items,
                   (select coalesce(min(through), 0) from ${table('progress')})::text as read_position
              from (select coalesce(sum(items), 0)::bigint as items,
                           coalesce(sum(units), 0)::bigint as units,
                           coalesce(sum(low_stock_items), 0)::bigint as low_stock_items,
                           coalesce(sum(out_of_stock_items), 0)::bigint as out_of_stock_items
                      from ${table('store_totals')}) st`),
        );
        const lowest = await tx.any(sql.unsafe`
          select s.store_id, st.name as store_name, s.sku_id, k.code, k.name, s.quantity, s.low_stock_threshold
            from ${table('stock')} s
            join ${table('stores')} st on st.id = s.store_id
            join ${table('skus')} k on k.id = s.sku_id
           where not s.removed
           order by s.quantity - s.low_stock_threshold, s.quantity, s.store_id, s.sku_id
           limit ${LOWEST}`);
        return {
          stores: totals.stores,
          openStores: totals.open_stores,
          skus: totals.skus,
          items: totals.items,
          unitsInStock: totals.units,
          lowStockItems: totals.low_stock_items,
          outOfStockItems: totals.out_of_stock_items,
          lowest: lowest.map((raw) => {
            const row = lowRow.parse(raw);
            return {
              storeId: row.store_id,
              storeName: row.store_name,
              skuId: row.sku_id,
              code: row.code,
              name: row.name,
              quantity: row.quantity,
              lowStockThreshold: row.low_stock_threshold,
              margin: row.quantity - row.low_stock_threshold,
            };
          }),
          readPosition: totals.read_position,
          ...(await readDashboardFigures(tx, table, { kept })),
        };
      });
    },
  );
};

/**
 * Whether the read model has the figures the projector keeps for the dashboard (the SKU
 * counter, the top movers' windows). A read model made by the release before has not,
 * until a projector has rebuilt it (read-model-upgrade.ts): the report then sums as that
 * release did, so that a rolling deploy's new readers answer it meanwhile.
 */
async function keptFiguresExist(tx: DatabaseTransactionConnection, schema: string): Promise<boolean> {
  const names = ['catalog_totals', 'sku_movement_windows', 'movement_window_clock'].map((name) => `${schema}.${name}`);
  return z
    .boolean()
    .parse(await tx.oneFirst(sql.unsafe`select bool_and(to_regclass(name) is not null) from unnest(${sql.array(names, 'text')}) name`));
}
