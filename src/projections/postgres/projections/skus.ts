import { sql } from 'slonik';
import { z } from 'zod/v4';
import { idOfStream, type RowProjection } from '../projection.js';

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

const rowSchema = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  price: z.string().nullable(),
  low_stock_threshold: z.number(),
  deleted: z.boolean(),
  revision: z.bigint(),
  position: z.bigint(),
  created_at: z.number(),
  updated_at: z.number(),
});

export const skuProjection: RowProjection<SkuRow> = {
  category: 'sku',

  async load(tx, schema, streamIds) {
    const rows = await tx.any(sql.unsafe`
      select id, code, name, category, unit, price::text as price, low_stock_threshold, deleted, revision, position, created_at, updated_at
        from ${sql.identifier([schema, 'skus'])} where id = any(${sql.array(streamIds.map(idOfStream), 'uuid')})`);
    return new Map(
      rows.map((raw) => {
        const row = rowSchema.parse(raw);
        return [
          `sku-${row.id}`,
          {
            id: row.id,
            code: row.code,
            name: row.name,
            category: row.category,
            unit: row.unit,
            price: row.price,
            lowStockThreshold: row.low_stock_threshold,
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
    const payload = JSON.stringify(
      rows.map((row) => ({
        id: row.id,
        code: row.code,
        name: row.name,
        category: row.category,
        unit: row.unit,
        price: row.price,
        low_stock_threshold: row.lowStockThreshold,
        deleted: row.deleted,
        revision: row.revision,
        position: row.position.toString(),
        created_at: row.createdAt.toISOString(),
        updated_at: row.updatedAt.toISOString(),
      })),
    );
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
