import { sql } from 'slonik';
import { z } from 'zod/v4';
import { idOfStream, type RowProjection } from '../projection.js';

export interface UserRow {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  role: string;
  storeIds: string[];
  /** The mailer reads it to leave out those who turned low-stock emails off. */
  lowStockEmails: boolean;
  deleted: boolean;
  revision: number;
  position: bigint;
  createdAt: Date;
  updatedAt: Date;
}

const rowSchema = z.object({
  id: z.string(),
  username: z.string(),
  display_name: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  store_ids: z.array(z.string()),
  low_stock_emails: z.boolean(),
  deleted: z.boolean(),
  revision: z.bigint(),
  position: z.bigint(),
  created_at: z.number(),
  updated_at: z.number(),
});

/** Users and, beside them, one row per store a user is assigned to (for "staff of store X"). */
export const userProjection: RowProjection<UserRow> = {
  category: 'user',

  async load(tx, schema, streamIds) {
    const rows = await tx.any(sql.unsafe`
      select * from ${sql.identifier([schema, 'users'])} where id = any(${sql.array(streamIds.map(idOfStream), 'uuid')})`);
    return new Map(
      rows.map((raw) => {
        const row = rowSchema.parse(raw);
        return [
          `user-${row.id}`,
          {
            id: row.id,
            username: row.username,
            displayName: row.display_name,
            email: row.email,
            role: row.role,
            storeIds: row.store_ids,
            lowStockEmails: row.low_stock_emails,
            deleted: row.deleted,
            revision: Number(row.revision),
            position: row.position,
            createdAt: new Date(row.created_at),
            updatedAt: new Date(row.updated_at),
          },
        ];
      }),
    );
  },

  evolve(row, event, recorded) {
    const at = { revision: recorded.revision, position: recorded.position, updatedAt: recorded.recordedAt };
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, username, displayName, email, role, storeIds } = event.data;
        return { id: userId, username, displayName, email, role, storeIds, lowStockEmails: true, deleted: false, createdAt: recorded.recordedAt, ...at };
      }
      case 'UserProfileUpdated':
        return row && {
          ...row,
          ...(event.data.displayName !== undefined ? { displayName: event.data.displayName } : {}),
          ...(event.data.email !== undefined ? { email: event.data.email } : {}),
          ...(event.data.lowStockEmails !== undefined ? { lowStockEmails: event.data.lowStockEmails } : {}),
          ...at,
        };
      case 'UserRoleChanged':
        return row && { ...row, role: event.data.role, ...at };
      case 'UserStoresAssigned':
        return row && { ...row, storeIds: event.data.storeIds, ...at };
      case 'UserPasswordChanged':
        return row && { ...row, ...at };
      case 'UserDeleted':
        return row && { ...row, deleted: true, ...at };
      default:
        return row;
    }
  },

  async save(tx, schema, rows) {
    if (rows.length === 0) return;
    const payload = JSON.stringify(
      rows.map((row) => ({
        id: row.id,
        username: row.username,
        display_name: row.displayName,
        email: row.email,
        role: row.role,
        store_ids: row.storeIds,
        low_stock_emails: row.lowStockEmails,
        deleted: row.deleted,
        revision: row.revision,
        position: row.position.toString(),
        created_at: row.createdAt.toISOString(),
        updated_at: row.updatedAt.toISOString(),
      })),
    );
    const ids = sql.array(rows.map((row) => row.id), 'uuid');
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([schema, 'users'])} as t
        (id, username, display_name, email, role, store_ids, low_stock_emails, deleted, revision, position, created_at, updated_at)
      select id, username, display_name, email, role, store_ids, low_stock_emails, deleted, revision, position, created_at, updated_at
        from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, username text, display_name text, email text, role text,
             store_ids uuid[], low_stock_emails boolean, deleted boolean, revision bigint, position bigint, created_at timestamptz,
             updated_at timestamptz)
      on conflict (id) do update set
        username = excluded.username, display_name = excluded.display_name, email = excluded.email, role = excluded.role,
        store_ids = excluded.store_ids, low_stock_emails = excluded.low_stock_emails, deleted = excluded.deleted, revision = excluded.revision,
        position = excluded.position, updated_at = excluded.updated_at
      where t.revision < excluded.revision`);
    const assignments = sql.identifier([schema, 'store_assignments']);
    await tx.query(sql.unsafe`delete from ${assignments} where user_id = any(${ids})`);
    await tx.query(sql.unsafe`
      insert into ${assignments} (user_id, store_id)
      select u.id, unnest(u.store_ids) from ${sql.identifier([schema, 'users'])} u
       where u.id = any(${ids}) and not u.deleted
      on conflict do nothing`);
  },
};
