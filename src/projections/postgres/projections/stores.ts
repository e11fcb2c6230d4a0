import { sql } from 'slonik';
import { z } from 'zod/v4';
import { idOfStream, type RowProjection } from '../projection.js';

export interface StoreRow {
  id: string;
  name: string;
  code: string | null;
  address: string | null;
  status: 'open' | 'closed';
  revision: number;
  position: bigint;
  createdAt: Date;
  updatedAt: Date;
}

const rowSchema = z.object({
  id: z.string(),
  name: z.string(),
  code: z.string().nullable(),
  address: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  revision: z.bigint(),
  position: z.bigint(),
  created_at: z.number(),
  updated_at: z.number(),
});

export const storeProjection: RowProjection<StoreRow> = {
  category: 'store',

  async load(tx, schema, streamIds) {
    const rows = await tx.any(sql.unsafe`
      select * from ${sql.identifier([schema, 'stores'])} where id = any(${sql.array(streamIds.map(idOfStream), 'uuid')})`);
    return new Map(
      rows.map((raw) => {
        const row = rowSchema.parse(raw);
        return [
          `store-${row.id}`,
          {
            id: row.id,
            name: row.name,
            code: row.code,
            address: row.address,
            status: row.status,
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
      case 'StoreOpened': {
        const { storeId, name, code, address } = event.data;
        return { id: storeId, name, code, address, status: 'open', createdAt: recorded.recordedAt, ...at };
      }
      case 'StoreRenamed':
        return row && { ...row, name: event.data.name, ...at };
      case 'StoreDetailsChanged':
        return row && {
          ...row,
          ...(event.data.code !== undefined ? { code: event.data.code } : {}),
          ...(event.data.address !== undefined ? { address: event.data.address } : {}),
          ...at,
        };
      case 'StoreClosed':
        return row && { ...row, status: 'closed', ...at };
      default:
        return row;
    }
  },

  async save(tx, schema, rows) {
    if (rows.length === 0) return;
    const payload = JSON.stringify(
      rows.map((row) => ({ ...row, position: row.position.toString(), created_at: row.createdAt.toISOString(), updated_at: row.updatedAt.toISOString() })),
    );
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([schema, 'stores'])} as t (id, name, code, address, status, revision, position, created_at, updated_at)
      select id, name, code, address, status, revision, position, created_at, updated_at
        from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, name text, code text, address text, status text,
             revision bigint, position bigint, created_at timestamptz, updated_at timestamptz)
      on conflict (id) do update set
        name = excluded.name, code = excluded.code, address = excluded.address, status = excluded.status,
        revision = excluded.revision, position = excluded.position, updated_at = excluded.updated_at
      where t.revision < excluded.revision`);
  },
};
