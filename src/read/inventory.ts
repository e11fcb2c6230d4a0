import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import { principalOf } from '../shared/auth/plugin.js';
import { requireStoreReadAccess } from '../shared/auth/principal.js';
import { NotFound, ValidationFailed } from '../shared/errors.js';
import { stockItemStream } from '../shared/streams.js';
import type { RedisReadModel, RedisStockItem } from '../shared/hot-model/redis-read-model.js';
import { asOfParam, awaitLedger, itemLevelAsOf, positionOf, storeLevelsAsOf } from './as-of.js';
import { type ListSpec, indexedTextSearch, listPage } from './list.js';
import { skuSearchColumns } from './skus.js';
import { minPositionHeaders, minPositionOf } from './min-position.js';
import { fastSerializerCompiler } from '../shared/http/fast-serializer.js';
import { itemParams, storeParam } from '../shared/http/contract.js';
import { booleanFlag, etag, filtersOf, int8, listQuery, pageOf, quantityFilter, type ReadContext, noQuery, readErrors } from './schemas.js';

export const overallRowView = z.object({
  skuId: z.uuid(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  totalQuantity: z.int().describe('Units over every store holding the SKU (staff: over their stores)'),
  storeCount: z.int(),
  lowStockStoreCount: z.int().describe('Stores where the quantity is at or below the item threshold'),
});

export const storeRowView = z.object({
  storeId: z.uuid(),
  skuId: z.uuid(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  quantity: z.int(),
  lowStockThreshold: z.int(),
  lowStock: z.boolean().describe('quantity <= lowStockThreshold'),
  revision: z.int(),
});

export const itemView = z.object({
  storeId: z.uuid(),
  skuId: z.uuid(),
  quantity: z.int(),
  lowStockThreshold: z.int(),
  revision: z.int(),
});

const overallRow = z.object({
  sku_id: z.string(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  total_quantity: int8,
  store_count: z.number(),
  low_stock_store_count: z.number(),
});

const itemRow = z.object({ store_id: z.string(), sku_id: z.string(), quantity: int8, low_stock_threshold: z.number(), revision: int8 });

const toOverall = (raw: Record<string, unknown>): z.infer<typeof overallRowView> => {
  const row = overallRow.parse(raw);
  return {
    skuId: row.sku_id,
    code: row.code,
    name: row.name,
    category: row.category,
    unit: row.unit,
    totalQuantity: row.total_quantity,
    storeCount: row.store_count,
    lowStockStoreCount: row.low_stock_store_count,
  };
};

/**
 * A row of the store page, checked by hand rather than by zod: the same guarantee (a row of
 * another shape is refused, a 500, never answered), without zod's copy of each of the 51 rows.
 * int8 columns arrive as bigint through slonik and as decimal text through the plain pool.
 */
export function toStoreRow(row: Record<string, unknown>): z.infer<typeof storeRowView> {
  const { store_id: storeId, sku_id: skuId, code, name, category, unit, low_stock_threshold: lowStockThreshold } = row;
  if (typeof storeId !== 'string' || typeof skuId !== 'string' || typeof code !== 'string' || typeof name !== 'string' || typeof unit !== 'string') {
    throw new TypeError('store page: a text column is not text');
  }
  if (category !== null && typeof category !== 'string') throw new TypeError('store page: category is neither text nor null');
  if (typeof lowStockThreshold !== 'number' || !Number.isFinite(lowStockThreshold)) throw new TypeError('store page: low_stock_threshold is not a number');
  const quantity = int8Of(row.quantity, 'quantity');
  return {
    storeId,
    skuId,
    code,
    name,
    category,
    unit,
    quantity,
    lowStockThreshold,
    lowStock: quantity <= lowStockThreshold,
    revision: int8Of(row.revision, 'revision'),
  };
}

const INT8_TEXT = /^-?[0-9]{1,19}$/;

/** An int8 column as the JSON number the API speaks, from slonik's bigint or pg's text. */
function int8Of(value: unknown, column: string): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && INT8_TEXT.test(value)) return Number(value);
  throw new TypeError(`store page: ${column} is not an int8`);
}

const skuFields = {
  code: { expr: sql.fragment`upper(k.code)`, type: 'text' },
  name: { expr: sql.fragment`lower(k.name)`, type: 'text' },
  category: { expr: sql.fragment`k.category`, type: 'text', nullable: true },
} as const;

const overallSpec: ListSpec = {
  resource: 'inventory',
  fields: {
    ...skuFields,
    totalQuantity: { expr: sql.fragment`inv.total_quantity`, type: 'bigint', id: sql.fragment`inv.sku_id` },
    storeCount: { expr: sql.fragment`inv.store_count`, type: 'integer', id: sql.fragment`inv.sku_id` },
    lowStockStoreCount: { expr: sql.fragment`inv.low_stock_store_count`, type: 'integer', id: sql.fragment`inv.sku_id` },
  },
  defaultSort: 'code',
  id: sql.fragment`k.id`,
};

/**
 * The SKU's fields of a store page pair with `k.id`, the id in their indexes (skus_code,
 * skus_name, skus_category), not `s.sku_id` (the same value by the join): so the cursor's row
 * comparison is an index condition of that index, and a page deep in a large store starts where
 * the cursor points instead of walking every SKU before it (a scratch check at 200,000 items:
 * 228 ms against 1.1 ms).
 */
const storeSkuFields = {
  code: { ...skuFields.code, id: sql.fragment`k.id` },
  name: { ...skuFields.name, id: sql.fragment`k.id` },
  category: { ...skuFields.category, id: sql.fragment`k.id` },
} as const;

const storeSpec: ListSpec = {
  resource: 'store-inventory',
  fields: {
    ...storeSkuFields,
    quantity: { expr: sql.fragment`s.quantity`, type: 'bigint' },
    lowStockThreshold: { expr: sql.fragment`s.low_stock_threshold`, type: 'integer' },
  },
  defaultSort: 'code',
  id: sql.fragment`s.sku_id`,
};

const inventoryFilters = {
  category: z.string().max(100).optional(),
  minQuantity: quantityFilter.optional(),
  maxQuantity: quantityFilter.optional(),
};

/** Every store's sums: the rows the projector keeps (stock_summary), each sort an index. */
const managerInventory = (table: ReadContext['table']) =>
  sql.fragment`(select sku_id, total_quantity, store_count, low_stock_store_count
                  from ${table('stock_summary')} where store_count > 0)`;

/**
 * Staff see sums over their own stores only. Of one store (most staff) the sums are its
 * stock rows themselves: a plain select the planner merges into the page's query, so each
 * sort walks an index of `stock` (schema.sql) and a page costs the same at a million items.
 * Of several stores they are summed on read, over every item of those stores.
 */
function staffInventory(table: ReadContext['table'], storeIds: readonly string[]) {
  const [only] = storeIds;
  if (storeIds.length === 1 && only !== undefined) {
    return sql.fragment`(select sku_id,
                                quantity as total_quantity,
                                1 as store_count,
                                (quantity <= low_stock_threshold)::integer as low_stock_store_count
                           from ${table('stock')}
                          where store_id = ${only} and not removed)`;
  }
  return sql.fragment`(select sku_id,
                              sum(quantity)::bigint as total_quantity,
                              count(*)::integer as store_count,
                              (count(*) filter (where quantity <= low_stock_threshold))::integer as low_stock_store_count
                         from ${table('stock')}
                        where store_id = any(${sql.array([...storeIds], 'uuid')}) and not removed
                        group by sku_id)`;
}

export const inventoryReadRoutes: FastifyPluginAsyncZod<ReadContext> = async (app, context) => {
  const { pool, cursors, table } = context;
  app.get(
    '/api/inventory',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Overall stock: one row per SKU summed over stores (staff: over their stores)',
        headers: minPositionHeaders,
        querystring: z.strictObject({
          ...listQuery(Object.keys(overallSpec.fields), overallSpec.defaultSort),
          ...inventoryFilters,
          lowStock: booleanFlag.optional().describe('true: SKUs low in at least one store; false: low in none'),
        }),
        response: { 200: pageOf(overallRowView), ...readErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const query = request.query;
      const source = principal.role === 'staff' ? staffInventory(table, principal.storeIds) : managerInventory(table);
      const where: FragmentSqlToken[] = [];
      const search = await indexedTextSearch(query.q, skuSearchColumns, context.trigramSamples);
      if (search) where.push(search);
      if (query.category !== undefined) where.push(sql.fragment`k.category = ${query.category}`);
      if (query.lowStock !== undefined) {
        where.push(query.lowStock ? sql.fragment`inv.low_stock_store_count > 0` : sql.fragment`inv.low_stock_store_count = 0`);
      }
      if (query.minQuantity !== undefined) where.push(sql.fragment`inv.total_quantity >= ${query.minQuantity}`);
      if (query.maxQuantity !== undefined) where.push(sql.fragment`inv.total_quantity <= ${query.maxQuantity}`);
      return listPage(
        {
          pool,
          cursors,
          spec: overallSpec,
          sort: query.sort,
          cursor: query.cursor,
          limit: query.limit,
          filters: filtersOf(query),
          select: sql.fragment`k.id as sku_id, k.code, k.name, k.category, k.unit, inv.total_quantity, inv.store_count, inv.low_stock_store_count`,
          from: sql.fragment`${source} inv join ${table('skus')} k on k.id = inv.sku_id`,
          where,
        },
        toOverall,
      );
    },
  );

  app.get(
    '/api/inventory/stores/:storeId',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The stock of one store (staff: only their own stores)',
        headers: minPositionHeaders,
        params: storeParam,
        querystring: z.strictObject({
          ...listQuery(Object.keys(storeSpec.fields), storeSpec.defaultSort),
          ...inventoryFilters,
          lowStock: booleanFlag.optional().describe('true: quantity <= lowStockThreshold; false: above it'),
          asOf: asOfParam.optional(),
        }),
        response: { 200: pageOf(storeRowView).extend({ position: z.string().optional().describe('With asOf: the global position the quantities reflect') }), ...readErrors },
      },
      // The store page and the point read are the hot reads: their 200 skips zod's second parse.
      serializerCompiler: fastSerializerCompiler,
    },
    async (request) => {
      const { storeId } = request.params;
      requireStoreReadAccess(principalOf(request), storeId);
      const query = request.query;
      if (query.asOf !== undefined) return storeAsOf(context, storeId, query);
      const where: FragmentSqlToken[] = [sql.fragment`s.store_id = ${storeId}`, sql.fragment`not s.removed`];
      const search = await indexedTextSearch(query.q, skuSearchColumns, context.trigramSamples);
      if (search) where.push(search);
      if (query.category !== undefined) where.push(sql.fragment`k.category = ${query.category}`);
      if (query.lowStock !== undefined) {
        where.push(query.lowStock ? sql.fragment`s.quantity <= s.low_stock_threshold` : sql.fragment`s.quantity > s.low_stock_threshold`);
      }
      if (query.minQuantity !== undefined) where.push(sql.fragment`s.quantity >= ${query.minQuantity}`);
      if (query.maxQuantity !== undefined) where.push(sql.fragment`s.quantity <= ${query.maxQuantity}`);
      const page = await listPage(
        {
          pool,
          plain: context.plain,
          cursors,
          spec: storeSpec,
          sort: query.sort,
          cursor: query.cursor,
          limit: query.limit,
          filters: { ...filtersOf(query), storeId },
          select: sql.fragment`s.store_id, s.sku_id, k.code, k.name, k.category, k.unit, s.quantity, s.low_stock_threshold, s.revision`,
          from: sql.fragment`${table('stock')} s join ${table('skus')} k on k.id = s.sku_id`,
          where,
        },
        toStoreRow,
      );
      // An empty first page may mean no such store: say so rather than answer an empty list.
      if (page.items.length === 0 && query.cursor === undefined) {
        const exists = await pool.exists(sql.unsafe`select 1 from ${table('stores')} where id = ${storeId}`);
        if (!exists) throw new NotFound('store', storeId);
      }
      return page;
    },
  );

  app.get(
    '/api/inventory/stores/:storeId/items/:skuId',
    {
      config: {
        readsStream: (params) => {
          const { storeId, skuId } = itemParams.parse(params);
          return stockItemStream(storeId, skuId);
        },
      },
      schema: {
        tags: ['inventory'],
        summary: 'One stock item (a SKU in a store); ETag is its revision',
        headers: minPositionHeaders,
        params: itemParams,
        querystring: z.strictObject({ asOf: asOfParam.optional() }),
        response: { 200: itemView.extend({ position: z.string().optional().describe('With asOf: the global position the level reflects') }), ...readErrors },
      },
      serializerCompiler: fastSerializerCompiler,
    },
    async (request, reply) => {
      const { storeId, skuId } = request.params;
      requireStoreReadAccess(principalOf(request), storeId);
      if (request.query.asOf !== undefined) {
        const position = await positionOf(pool, request.query.asOf);
        await awaitLedger(pool, table('progress'), position, AS_OF_WAIT_MS);
        const level = await itemLevelAsOf(pool, table, storeId, skuId, position);
        if (!level) throw new NotFound('stock item', `${storeId}/${skuId} as of position ${position}`);
        return { storeId, skuId, quantity: level.quantity, lowStockThreshold: level.low_stock_threshold, revision: level.revision, position: position.toString() };
      }
      const hot = await hotItem(context, storeId, skuId, minPositionOf(request));
      if (hot) {
        void reply.header('etag', etag(hot.revision));
        return hot;
      }
      const row = await pool.maybeOne(sql.unsafe`
        select store_id, sku_id, quantity, low_stock_threshold, revision
          from ${table('stock')} where store_id = ${storeId} and sku_id = ${skuId} and not removed`);
      if (!row) throw new NotFound('stock item', `${storeId}/${skuId}`);
      const item = itemRow.parse(row);
      void reply.header('etag', etag(item.revision));
      return {
        storeId: item.store_id,
        skuId: item.sku_id,
        quantity: item.quantity,
        lowStockThreshold: item.low_stock_threshold,
        revision: item.revision,
      };
    },
  );
};

/** How long an asOf waits for the ledger to reach its position before a 503. */
const AS_OF_WAIT_MS = 2000;

/**
 * One store's stock as it stood at a past position, from the ledger: the whole store in one
 * answer, in SKU code order. Paging, sorting and filters describe the live list; given with
 * asOf they are refused by name rather than ignored.
 */
async function storeAsOf(context: ReadContext, storeId: string, query: Record<string, unknown> & { asOf?: string | undefined }) {
  const { pool, table } = context;
  const combined = Object.entries(query).filter(([name, value]) => value !== undefined && name !== 'asOf' && name !== 'limit');
  if (combined.length > 0) {
    throw new ValidationFailed(combined.map(([name]) => ({ field: `query.${name}`, reason: 'cannot be combined with asOf' })));
  }
  const position = await positionOf(pool, query.asOf!);
  await awaitLedger(pool, table('progress'), position, AS_OF_WAIT_MS);
  const levels = await storeLevelsAsOf(pool, table, storeId, position);
  if (levels.length === 0 && !(await pool.exists(sql.unsafe`select 1 from ${table('stores')} where id = ${storeId}`))) {
    throw new NotFound('store', storeId);
  }
  const skus = new Map(
    (await pool.any(sql.unsafe`select id, code, name, category, unit from ${table('skus')} where id = any(${sql.array(levels.map((l) => l.sku_id), 'uuid')})`)).map(
      (raw) => {
        const sku = z.object({ id: z.string(), code: z.string(), name: z.string(), category: z.string().nullable(), unit: z.string() }).parse(raw);
        return [sku.id, sku] as const;
      },
    ),
  );
  const items = levels.map((level) => {
    const sku = skus.get(level.sku_id);
    return {
      storeId,
      skuId: level.sku_id,
      code: sku?.code ?? '',
      name: sku?.name ?? '',
      category: sku?.category ?? null,
      unit: sku?.unit ?? '',
      quantity: level.quantity,
      lowStockThreshold: level.low_stock_threshold,
      lowStock: level.quantity <= level.low_stock_threshold,
      revision: level.revision,
    };
  });
  items.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.skuId < b.skuId ? -1 : 1));
  return { items, next: null, position: position.toString() };
}

/**
 * A point read from Redis when it can answer for this request: it is up, holds the item,
 * and (with X-Min-Position) has itself reached the position. Otherwise null or undefined
 * (or null instead of the promise: no hot model), and PostgreSQL answers, silently: the
 * client cannot tell which one did.
 */
function hotItem(context: ReadContext, storeId: string, skuId: string, minPosition: bigint | undefined): Promise<RedisStockItem | null | undefined> | null {
  const { hot } = context;
  if (!hot) return null;
  // Without X-Min-Position (nearly every read): the read's own promise, no async frame around it.
  if (minPosition === undefined) return hot.item(storeId, skuId);
  return hotItemAtLeast(hot, storeId, skuId, minPosition);
}

/** With X-Min-Position: only when Redis has itself applied the position (its watermark, read first). */
async function hotItemAtLeast(hot: RedisReadModel, storeId: string, skuId: string, minPosition: bigint): Promise<RedisStockItem | null | undefined> {
  const watermark = await hot.watermark();
  if (watermark === undefined || watermark === null || watermark < minPosition) return null;
  return hot.item(storeId, skuId);
}
