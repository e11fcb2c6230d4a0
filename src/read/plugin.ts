import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { DatabasePool } from '../shared/db/pool.js';
import type { RedisReadModel } from '../shared/hot-model/redis-read-model.js';
import { consolePlugin } from './console/plugin.js';
import { CursorCodec } from './cursor.js';
import { historyRoutes, type StreamHistorySource } from './history.js';
import { auditRoutes } from './audit/routes.js';
import { type AuditTrailSource, postgresAuditTrail } from './audit/trail.js';
import { inventoryReadRoutes } from './inventory.js';
import { minPositionGuard } from './min-position.js';
import type { ProgressSignal } from '../shared/read-model/progress-signal.js';
import { reportReadRoutes } from './reports.js';
import { type ReadContext, tableIn } from './schemas.js';
import { skuReadRoutes } from './skus.js';
import { storeReadRoutes } from './stores.js';
import { TrigramSamples } from './trigram-samples.js';
import { userReadRoutes } from './users.js';

export interface ReadApiOptions {
  pool: DatabasePool;
  /** A plain `pg` pool (the event store's append pool) for the store page's query; without it slonik's pool answers. */
  plain?: pg.Pool | null;
  /** Signs list cursors (a key is derived from it; the JWT secret may be passed). */
  cursorSecret: string;
  /** How long a query with X-Min-Position may wait for the read model; 2000 ms by default. */
  minPositionTimeoutMs?: number;
  /** The PostgreSQL schema queried; `read_model` by default. */
  schema?: string;
  /** The Redis hot read model for point reads, when REDIS_URL is set. */
  hot?: RedisReadModel | null;
  /** Stream histories, read from the event store (the source, never behind). */
  history: StreamHistorySource;
  /** The audit trail; the PostgreSQL event store's by default. */
  trail?: AuditTrailSource;
  /** Events per round trip of an audit export (tests make it small). */
  exportPageSize?: number;
  /** Wakes the X-Min-Position waiters at a projector's commit; without it they poll. */
  signal?: ProgressSignal | null;
}

/**
 * The query half of the HTTP contract, answered from the PostgreSQL read model. Expects
 * auth to be decorated (`authenticate`). Every route is behind authentication and honours
 * `X-Min-Position`.
 */
export const readApi: FastifyPluginAsyncZod<ReadApiOptions> = async (app, options) => {
  const schema = options.schema ?? 'read_model';
  const context: ReadContext = {
    pool: options.pool,
    plain: options.plain ?? null,
    cursors: new CursorCodec(options.cursorSecret),
    hot: options.hot ?? null,
    table: tableIn(schema),
    schema,
    trigramSamples: new TrigramSamples(options.pool, schema),
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', scope.authenticateHook);
    scope.addHook('preHandler', minPositionGuard({ pool: options.pool, schema, timeoutMs: options.minPositionTimeoutMs ?? 2000, signal: options.signal ?? null }));
    await scope.register(userReadRoutes, context);
    await scope.register(storeReadRoutes, context);
    await scope.register(skuReadRoutes, context);
    await scope.register(inventoryReadRoutes, context);
    await scope.register(reportReadRoutes, context);
  });
  // Read from the event store itself (the audit trail's usernames aside): X-Min-Position, a
  // read-model wait, does not apply.
  await app.register(async (scope) => {
    scope.addHook('onRequest', scope.authenticateHook);
    await scope.register(historyRoutes, { history: options.history });
    await scope.register(auditRoutes, {
      trail: options.trail ?? postgresAuditTrail(options.pool),
      pool: options.pool,
      users: context.table('users'),
      ...(options.exportPageSize ? { exportPageSize: options.exportPageSize } : {}),
    });
  });
  // The web console: static files; what it shows comes from the routes above, with the user's token.
  await app.register(consolePlugin);
};
