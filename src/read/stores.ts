import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import { principalOf } from '../shared/auth/plugin.js';
import { requireStoreReadAccess } from '../shared/auth/principal.js';
import { NotFound } from '../shared/errors.js';
import { storeStream } from '../shared/streams.js';
import { type ListSpec, listPage, textSearch } from './list.js';
import { minPositionHeaders } from './min-position.js';
import { idParam } from '../shared/http/contract.js';
import { etag, filtersOf, int8, listQuery, pageOf, noQuery, type ReadContext, readErrors } from './schemas.js';

const Status = z.enum(['open', 'closed']);

export const storeView = z.object({
  id: z.uuid(),
  name: z.string(),
  code: z.string().nullable(),
  address: z.string().nullable(),
  status: Status,
  revision: z.int(),
});

const storeRow = z.object({
  id: z.string(),
  name: z.string(),
  code: z.string().nullable(),
  address: z.string().nullable(),
  status: Status,
  revision: int8,
});

const toStore = (raw: Record<string, unknown>): z.infer<typeof storeView> => storeRow.parse(raw);

const columns = sql.fragment`s.id, s.name, s.code, s.address, s.status, s.revision`;

const spec: ListSpec = {
  resource: 'stores',
  fields: {
    name: { expr: sql.fragment`lower(s.name)`, type: 'text' },
    code: { expr: sql.fragment`upper(s.code)`, type: 'text', nullable: true },
    status: { expr: sql.fragment`s.status`, type: 'text' },
  },
  defaultSort: 'name',
  id: sql.fragment`s.id`,
};

export const storeReadRoutes: FastifyPluginAsyncZod<ReadContext> = async (app, { pool, cursors, table }) => {
  app.get(
    '/api/stores',
    {
      schema: {
        tags: ['stores'],
        summary: 'List stores (staff: only the stores they are assigned to)',
        headers: minPositionHeaders,
        querystring: z.strictObject({ ...listQuery(Object.keys(spec.fields), spec.defaultSort), status: Status.optional() }),
        response: { 200: pageOf(storeView), ...readErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const query = request.query;
      const where: FragmentSqlToken[] = [];
      if (principal.role === 'staff') where.push(sql.fragment`s.id = any(${sql.array([...principal.storeIds], 'uuid')})`);
      const search = textSearch(query.q, [sql.fragment`s.name`, sql.fragment`s.code`]);
      if (search) where.push(search);
      if (query.status) where.push(sql.fragment`s.status = ${query.status}`);
      return listPage(
        {
          pool,
          cursors,
          spec,
          sort: query.sort,
          cursor: query.cursor,
          limit: query.limit,
          filters: filtersOf(query),
          select: columns,
          from: sql.fragment`${table('stores')} s`,
          where,
        },
        toStore,
      );
    },
  );

  app.get(
    '/api/stores/:id',
    {
      config: { readsStream: (params) => storeStream(idParam.parse(params).id) },
      schema: {
        tags: ['stores'],
        summary: 'One store (staff: only their own)',
        headers: minPositionHeaders,
        params: idParam,
        querystring: noQuery,
        response: { 200: storeView, ...readErrors },
      },
    },
    async (request, reply) => {
      const storeId = request.params.id;
      requireStoreReadAccess(principalOf(request), storeId);
      const row = await pool.maybeOne(sql.unsafe`select ${columns} from ${table('stores')} s where s.id = ${storeId}`);
      if (!row) throw new NotFound('store', storeId);
      const store = toStore(row);
      void reply.header('etag', etag(store.revision));
      return store;
    },
  );
};
