import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import { principalOf } from '../shared/auth/plugin.js';
import { requireRole } from '../shared/auth/principal.js';
import { Role } from '../shared/events/user.js';
import { type ListSpec, listPage, textSearch } from './list.js';
import { minPositionHeaders } from './min-position.js';
import { userView } from '../shared/http/user-view.js';
import { filtersOf, int8, listQuery, pageOf, type ReadContext, readErrors } from './schemas.js';

const userRow = z.object({
  id: z.string(),
  username: z.string(),
  display_name: z.string().nullable(),
  email: z.string().nullable(),
  role: Role,
  store_ids: z.array(z.string()),
  revision: int8,
});

const toUser = (raw: Record<string, unknown>): z.infer<typeof userView> => {
  const row = userRow.parse(raw);
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    storeIds: row.store_ids,
    revision: row.revision,
  };
};

const spec: ListSpec = {
  resource: 'users',
  fields: {
    username: { expr: sql.fragment`lower(u.username)`, type: 'text' },
    displayName: { expr: sql.fragment`lower(u.display_name)`, type: 'text', nullable: true },
    role: { expr: sql.fragment`u.role`, type: 'text' },
  },
  defaultSort: 'username',
  id: sql.fragment`u.id`,
};

export const userReadRoutes: FastifyPluginAsyncZod<ReadContext> = async (app, { pool, cursors, table }) => {
  app.get(
    '/api/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users (manager, auditor)',
        headers: minPositionHeaders,
        querystring: z.strictObject({ ...listQuery(Object.keys(spec.fields), spec.defaultSort), role: Role.optional() }),
        response: { 200: pageOf(userView), ...readErrors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), 'manager', 'auditor');
      const query = request.query;
      const where: FragmentSqlToken[] = [sql.fragment`not u.deleted`];
      const search = textSearch(query.q, [sql.fragment`u.username`, sql.fragment`u.display_name`, sql.fragment`u.email`]);
      if (search) where.push(search);
      if (query.role) where.push(sql.fragment`u.role = ${query.role}`);
      return listPage(
        {
          pool,
          cursors,
          spec,
          sort: query.sort,
          cursor: query.cursor,
          limit: query.limit,
          filters: filtersOf(query),
          select: sql.fragment`u.id, u.username, u.display_name, u.email, u.role, u.store_ids::text[] as store_ids, u.revision`,
          from: sql.fragment`${table('users')} u`,
          where,
        },
        toUser,
      );
    },
  );
};
