import { sql } from 'slonik';
import { z } from 'zod/v4';
import { skuStream } from '../../../shared/streams.js';
import { idOfStream, type RowProjection } from '../projection.js';
import { column, rowCodec } from '../row-codec.js';

export interface SkuRow {
  id: string;
  code: string;
  name: string;
  category: string | null;
  unit: string;
  /** Decimal string, as the API carries it; NUMERIC in the table so it sorts. */
  price: string | null;
  lowStockThreshold: number;
  deleted: boolean;
  revision: number;
  position: bigint;
  createdAt: Date;
  updatedAt: Date;
}

const skuRows = rowCodec<SkuRow>({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  price: z.string().nullable(),
  lowStockThreshold: z.number(),
  deleted: z.boolean(),
  revision: column.int8AsNumber,
  position: column.int8,
  createdAt: column.timestamp,
  updatedAt: column.timestamp,
});

export const skuProjection: RowProjection<SkuRow> = {
  category: 'sku',

  rows: skuRows,
  // The price as text: a NUMERIC keeps its scale that way, and the row carries a decimal string.
  select: (schema, streamIds) => sql.unsafe`
    select id, code, name, category, unit, price::text as price, low_stock_threshold, deleted, revision, position, created_at, updated_at
      from ${sql.identifier([schema, 'skus'])} where id = any(${sql.array(streamIds.map(idOfStream), 'uuid')})`,
  streamOf: (row) => skuStream(row.id),

  evolve(row, event, recorded) {
    const at = { revision: recorded.revision, position: recorded.position, updatedAt: recorded.recordedAt };
    switch (event.type) {
      case 'SkuCreated': {
        const { skuId, code, name, category, unit, price, lowStockThreshold } = event.data;
        return { id: skuId, code, name, category, unit, price, lowStockThreshold, deleted: false, createdAt: recorded.recordedAt, ...at };
      }
      case 'SkuUpdated': {
        if (!row) return row;
        const changes = Object.fromEntries(Object.entries(event.data).filter(([, value]) => value !== undefined));
        return { ...row, ...changes, ...at };
      }
      case 'SkuDeleted':
        return row && { ...row, deleted: true, ...at };
      default:
        return row;
    }
  },

  async save(tx, schema, rows) {
    if (rows.length === 0) return;
    const payload = JSON.stringify(rows.map(skuRows.encode));
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([schema, 'skus'])} as t
        (id, code, name, category, unit, price, low_stock_threshold, deleted, revision, position, created_at, updated_at)
      select id, code, name, category, unit, price, low_stock_threshold, deleted, revision, position, created_at, updated_at
        from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, code text, name text, category text, unit text, price numeric,
             low_stock_threshold integer, deleted boolean, revision bigint, position bigint, created_at timestamptz, updated_at timestamptz)
      on conflict (id) do update set
        name = excluded.name, category = excluded.category, unit = excluded.unit, price = excluded.price,
        low_stock_threshold = excluded.low_stock_threshold, deleted = excluded.deleted, revision = excluded.revision,
        position = excluded.position, updated_at = excluded.updated_at
      where t.revision < excluded.revision`);
  },
};
