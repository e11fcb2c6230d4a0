import { sql } from 'slonik';
import { z } from 'zod/v4';
import { userStream } from '../../../shared/streams.js';
import { type RowProjection, selectById } from '../projection.js';
import { column, rowCodec } from '../row-codec.js';

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

const userRows = rowCodec<UserRow>({
  id: z.string(),
  username: z.string(),
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  storeIds: z.array(z.string()),
  lowStockEmails: z.boolean(),
  deleted: z.boolean(),
  revision: column.int8AsNumber,
  position: column.int8,
  createdAt: column.timestamp,
  updatedAt: column.timestamp,
});

/** Users and, beside them, one row per store a user is assigned to (for "staff of store X"). */
export const userProjection: RowProjection<UserRow> = {
  category: 'user',

  rows: userRows,
  table: 'users',
  select: selectById('users'),
  streamOf: (row) => userStream(row.id),

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
    const payload = JSON.stringify(rows.map(userRows.encode));
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
