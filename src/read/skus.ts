import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import { principalOf } from '../shared/auth/plugin.js';
import { NotFound } from '../shared/errors.js';
import { skuStream } from '../shared/streams.js';
import { type IndexedColumn, type ListSpec, indexedTextSearch, listPage } from './list.js';
import { minPositionHeaders } from './min-position.js';
import { idParam } from '../shared/http/contract.js';
import { booleanFlag, etag, filtersOf, int8, listQuery, pageOf, priceText, noQuery, type ReadContext, readErrors } from './schemas.js';

export const skuView = z.object({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  price: z.string().nullable().describe('Decimal string in the store currency, such as "4.50"'),
  lowStockThreshold: z.int(),
  deleted: z.boolean(),
  revision: z.int(),
});

const skuRow = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  price: z.string().nullable(),
  low_stock_threshold: z.number(),
  deleted: z.boolean(),
  revision: int8,
});

const toSku = (raw: Record<string, unknown>): z.infer<typeof skuView> => {
  const row = skuRow.parse(raw);
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    category: row.category,
    unit: row.unit,
    price: priceText(row.price),
    lowStockThreshold: row.low_stock_threshold,
    deleted: row.deleted,
    revision: row.revision,
  };
};

// NUMERIC is cast to text: slonik would parse it into a float.
const columns = sql.fragment`k.id, k.code, k.name, k.category, k.unit, k.price::text as price, k.low_stock_threshold, k.deleted, k.revision`;

export const skuList: ListSpec = {
  resource: 'skus',
  fields: {
    code: { expr: sql.fragment`upper(k.code)`, type: 'text' },
    name: { expr: sql.fragment`lower(k.name)`, type: 'text' },
    category: { expr: sql.fragment`k.category`, type: 'text', nullable: true },
    price: { expr: sql.fragment`k.price`, type: 'numeric', nullable: true },
    lowStockThreshold: { expr: sql.fragment`k.low_stock_threshold`, type: 'integer' },
  },
  defaultSort: 'code',
  id: sql.fragment`k.id`,
};

/** `q` on SKUs (and on the inventories, which join them): code or name, each with its trigram index. */
export const skuSearchColumns: readonly IndexedColumn[] = [
  { expr: sql.fragment`k.code`, trigramIndex: 'skus_code_trgm' },
  { expr: sql.fragment`k.name`, trigramIndex: 'skus_name_trgm' },
];

export const skuReadRoutes: FastifyPluginAsyncZod<ReadContext> = async (app, { pool, cursors, table, trigramSamples }) => {
  app.get(
    '/api/skus',
    {
      schema: {
        tags: ['skus'],
        summary: 'List SKUs; deleted ones only with deleted=true',
        headers: minPositionHeaders,
        querystring: z.strictObject({
          ...listQuery(Object.keys(skuList.fields), skuList.defaultSort),
          category: z.string().max(100).optional(),
          deleted: booleanFlag.optional().describe('true: only deleted SKUs; false (default): only live ones'),
        }),
        response: { 200: pageOf(skuView), ...readErrors },
      },
    },
    async (request) => {
      principalOf(request);
      const query = request.query;
      const where: FragmentSqlToken[] = [query.deleted ? sql.fragment`k.deleted` : sql.fragment`not k.deleted`];
      const search = await indexedTextSearch(query.q, skuSearchColumns, trigramSamples);
      if (search) where.push(search);
      if (query.category !== undefined) where.push(sql.fragment`k.category = ${query.category}`);
      return listPage(
        {
          pool,
          cursors,
          spec: skuList,
          sort: query.sort,
          cursor: query.cursor,
          limit: query.limit,
          filters: { ...filtersOf(query), deleted: query.deleted ?? false },
          select: columns,
          from: sql.fragment`${table('skus')} k`,
          where,
        },
        toSku,
      );
    },
  );

  app.get(
    '/api/skus/:id',
    {
      config: { readsStream: (params) => skuStream(idParam.parse(params).id) },
      schema: {
        tags: ['skus'],
        summary: 'One SKU (a deleted one too, marked deleted)',
        headers: minPositionHeaders,
        params: idParam,
        querystring: noQuery,
        response: { 200: skuView, ...readErrors },
      },
    },
    async (request, reply) => {
      principalOf(request);
      const skuId = request.params.id;
      const row = await pool.maybeOne(sql.unsafe`select ${columns} from ${table('skus')} k where k.id = ${skuId}`);
      if (!row) throw new NotFound('SKU', skuId);
      const sku = toSku(row);
      void reply.header('etag', etag(sku.revision));
      return sku;
    },
  );
};
