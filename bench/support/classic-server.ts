/**
 * The peers of Stockroom's hot paths: what a user would write instead, with the same
 * libraries and nothing of Stockroom, on Stockroom's own URLs so that autocannon sends the
 * very same requests to both (issue 13). Run in a process of its own by http-server.ts.
 *
 *   PATCH /api/inventory/stores/:storeId/items/:skuId   the classic transaction: BEGIN,
 *       UPDATE the quantity and a version with a no-negative guard, INSERT an outbox row,
 *       COMMIT, on a `pg` pool (classic_stock, classic_outbox: classicSchema below);
 *       a refused sale is 409 as Stockroom answers it, an unknown item 404
 *   GET /api/inventory/stores/:storeId/items/:skuId     HGETALL of the hot model's item
 *       hash (the key Stockroom's Redis projector writes), JSON.stringify
 *   GET /api/inventory/stores/:storeId?limit=50         the store page of the read model
 *       from PostgreSQL with `pg`: the read API's query shape (stock join skus, not
 *       removed, by code then SKU id, limit + 1), JSON.stringify
 *
 * Every route verifies the bearer token with @fastify/jwt and the bench's secret: the same
 * tokens Stockroom accepts. No denylist, no user lookup: what the peer does not do is part
 * of what it costs.
 */
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { Redis as IORedis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod/v4';
import { keys } from '../../src/shared/hot-model/keys.js';
import { JWT_SECRET } from './stockroom.js';

export const classicSpec = z.object({
  kind: z.literal('classic'),
  databaseUrl: z.string(),
  /** Connections of its one `pg` pool: the size of Stockroom's append pool. */
  poolSize: z.int().positive(),
  /** The Redis and key prefix of the hot model the point-read peer reads. */
  redis: z.object({ url: z.string(), keyPrefix: z.string() }).optional(),
});
export type ClassicSpec = z.infer<typeof classicSpec>;

/** The peer's own tables, beside Stockroom's in the same database; created by the bench before the server starts. */
export const classicSchema = `
  create table if not exists classic_stock (
    store_id uuid not null,
    sku_id uuid not null,
    quantity bigint not null check (quantity >= 0),
    version bigint not null default 0,
    primary key (store_id, sku_id)
  );
  create table if not exists classic_outbox (
    id bigint generated always as identity primary key,
    store_id uuid not null,
    sku_id uuid not null,
    version bigint not null,
    type text not null,
    payload jsonb not null,
    created_at timestamptz not null default now()
  );`;

const UPDATE =
  'update classic_stock set quantity = quantity + $3, version = version + 1 where store_id = $1 and sku_id = $2 and quantity + $3 >= 0 returning quantity, version';
const OUTBOX = 'insert into classic_outbox (store_id, sku_id, version, type, payload) values ($1, $2, $3, $4, $5)';
const PAGE = `
  select s.store_id, s.sku_id, k.code, k.name, k.category, k.unit, s.quantity, s.low_stock_threshold, s.revision
    from read_model.stock s join read_model.skus k on k.id = s.sku_id
   where s.store_id = $1 and not s.removed
   order by k.code, s.sku_id
   limit $2`;

interface ItemParams {
  storeId: string;
  skuId: string;
}
const itemParams = {
  type: 'object',
  required: ['storeId', 'skuId'],
  properties: { storeId: { type: 'string', format: 'uuid' }, skuId: { type: 'string', format: 'uuid' } },
} as const;
interface Adjustment {
  delta: number;
  reason: 'received' | 'sold' | 'damaged' | 'returned' | 'correction';
}

export async function classicServer(spec: ClassicSpec) {
  const pool = new pg.Pool({ connectionString: spec.databaseUrl, max: spec.poolSize });
  pool.on('error', () => {});
  const redis = spec.redis ? new IORedis(spec.redis.url, { keyPrefix: spec.redis.keyPrefix, maxRetriesPerRequest: 1 }) : null;
  redis?.on('error', () => {});

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  await app.register(fastifyJwt, { secret: JWT_SECRET });
  app.addHook('onRequest', async (request, reply) => {
    try {
      await request.jwtVerify();
    } catch {
      return reply.code(401).send({ error: 'unauthorized' });
    }
  });

  app.patch<{ Params: ItemParams; Body: Adjustment }>(
    '/api/inventory/stores/:storeId/items/:skuId',
    {
      schema: {
        params: itemParams,
        body: {
          type: 'object',
          required: ['delta', 'reason'],
          additionalProperties: false,
          properties: {
            delta: { type: 'integer', minimum: -1_000_000_000, maximum: 1_000_000_000, not: { const: 0 } },
            reason: { enum: ['received', 'sold', 'damaged', 'returned', 'correction'] },
          },
        },
      },
    },
    async (request, reply) => {
      const { storeId, skuId } = request.params;
      const { delta, reason } = request.body;
      const client = await pool.connect();
      try {
        await client.query('begin');
        const updated = await client.query<{ quantity: string; version: string }>({ name: 'classic-update', text: UPDATE, values: [storeId, skuId, delta] });
        const row = updated.rows[0];
        if (!row) {
          await client.query('rollback');
          const found = await client.query<{ quantity: string }>({
            name: 'classic-quantity',
            text: 'select quantity from classic_stock where store_id = $1 and sku_id = $2',
            values: [storeId, skuId],
          });
          const available = found.rows[0]?.quantity;
          if (available === undefined) return reply.code(404).send({ error: 'not-found' });
          return reply.code(409).send({ error: 'insufficient-stock', available: Number(available), requested: -delta });
        }
        const payload = JSON.stringify({ storeId, skuId, delta, reason, quantityAfter: Number(row.quantity), at: new Date().toISOString() });
        await client.query({ name: 'classic-outbox', text: OUTBOX, values: [storeId, skuId, row.version, 'StockAdjusted', payload] });
        await client.query('commit');
        return reply
          .header('content-type', 'application/json; charset=utf-8')
          .send(JSON.stringify({ storeId, skuId, quantity: Number(row.quantity), version: Number(row.version) }));
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  );

  app.get<{ Params: ItemParams }>('/api/inventory/stores/:storeId/items/:skuId', { schema: { params: itemParams } }, async (request, reply) => {
    if (!redis) return reply.code(503).send({ error: 'no Redis configured' });
    const { storeId, skuId } = request.params;
    const hash = await redis.hgetall(keys.item(storeId, skuId));
    if (hash.quantity === undefined || hash.removed === '1') return reply.code(404).send({ error: 'not-found' });
    return reply.header('content-type', 'application/json; charset=utf-8').send(
      JSON.stringify({
        storeId,
        skuId,
        quantity: Number(hash.quantity),
        lowStockThreshold: Number(hash.lowStockThreshold),
        revision: Number(hash.revision),
      }),
    );
  });

  app.get<{ Params: { storeId: string }; Querystring: { limit: number } }>(
    '/api/inventory/stores/:storeId',
    {
      schema: {
        params: { type: 'object', required: ['storeId'], properties: { storeId: { type: 'string', format: 'uuid' } } },
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
      },
    },
    async (request, reply) => {
      const { limit } = request.query;
      const { rows } = await pool.query<{
        store_id: string;
        sku_id: string;
        code: string;
        name: string;
        category: string | null;
        unit: string;
        quantity: string;
        low_stock_threshold: number;
        revision: string;
      }>({ name: 'classic-page', text: PAGE, values: [request.params.storeId, limit + 1] });
      const items = rows.slice(0, limit).map((row) => ({
        storeId: row.store_id,
        skuId: row.sku_id,
        code: row.code,
        name: row.name,
        category: row.category,
        unit: row.unit,
        quantity: Number(row.quantity),
        lowStockThreshold: row.low_stock_threshold,
        lowStock: Number(row.quantity) <= row.low_stock_threshold,
        revision: Number(row.revision),
      }));
      const last = items.at(-1);
      const next = rows.length > limit && last ? Buffer.from(JSON.stringify([last.code, last.skuId])).toString('base64url') : null;
      return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ items, next }));
    },
  );

  return {
    app,
    close: async () => {
      redis?.disconnect();
      await pool.end();
    },
  };
}
