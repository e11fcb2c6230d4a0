import { sql } from 'slonik';
import { z } from 'zod/v4';
import { storeStream } from '../../../shared/streams.js';
import { type RowProjection, selectById } from '../projection.js';
import { column, rowCodec } from '../row-codec.js';

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

const storeRows = rowCodec<StoreRow>({
  id: z.string(),
  name: z.string(),
  code: z.string().nullable(),
  address: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  revision: column.int8AsNumber,
  position: column.int8,
  createdAt: column.timestamp,
  updatedAt: column.timestamp,
});

export const storeProjection: RowProjection<StoreRow> = {
  category: 'store',

  rows: storeRows,
  table: 'stores',
  select: selectById('stores'),
  streamOf: (row) => storeStream(row.id),

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
    const payload = JSON.stringify(rows.map(storeRows.encode));
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
