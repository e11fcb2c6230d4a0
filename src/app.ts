import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type pg from 'pg';
import Fastify, { LogController } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { fastValidatorCompiler } from './shared/http/fast-validator.js';
import type { FastifyBaseLogger } from 'fastify';
import { MirroredPostgresDenylist, PostgresTokenDenylist } from './shared/auth/denylist.js';
import { RedisBackedDenylist } from './shared/auth/redis-denylist.js';
import { RedisReadModel } from './shared/hot-model/redis-read-model.js';
import type { Redis } from './shared/redis.js';
import { authPlugin } from './shared/auth/plugin.js';
import { publicUrl, type Config } from './shared/config.js';
import type { DatabasePool } from './shared/db/pool.js';
import type { EventStore } from './shared/event-store/port.js';
import { registerProblemHandlers } from './shared/http/problem.js';
import { checkEveryRequest } from './shared/http/request-checks.js';
import { DOCS_CSP, securityHeaders } from './shared/http/security-headers.js';
import { openApiObjectTransform, openApiRouteTransform } from './shared/http/openapi.js';
import { clientErrorHandler, frameworkErrors } from './shared/http/client-errors.js';
import { newRequestId } from './shared/ids.js';
import { PostgresSnapshotStore } from './shared/snapshots/postgres.js';
import { CommandHandler } from './write/command-handler.js';
import { credentialsFromStreams } from './write/credentials.js';
import { writeApi } from './write/plugin.js';
import { readApi } from './read/plugin.js';
import { ProgressSignal } from './shared/read-model/progress-signal.js';
import { streamHistory } from './read/history.js';
import { eventStoreAuditTrail } from './read/audit/port-trail.js';
import { liveApi, type LiveOptions } from './read/ws/plugin.js';
import type { StockChangeFeed } from './shared/live/stock-changes.js';
import { opsRoutes } from './ops.js';
import { metricsPlugin } from './ops/metrics.js';
import { EVENTS_TOPIC } from './background.js';
import type { ForwarderStatus } from './projections/forwarder.js';
import type { BusHealth } from './shared/event-bus/kafka.js';

export interface AppDependencies {
  config: Config;
  pool: DatabasePool;
  eventStore: EventStore;
  jwtSecret: string;
  logger?: FastifyBaseLogger | false;
  /**
   * The database the pool is of, for sessions the pool cannot lend for good: without Redis,
   * the denylist's mirror LISTENs on one (denylist.ts; else every request asks PostgreSQL
   * whether its token was revoked), and the read API LISTENs for the projector's commits to
   * wake the X-Min-Position waiters at once (else they poll every 5 ms).
   */
  databaseUrl?: string;
  /** Redis (REDIS_URL): the token denylist's fast copy and the hot read model. */
  redis?: Redis | null;
  /**
   * The plain `pg` pool the PostgreSQL event store appends through: the read API runs its store
   * page on it too (list.ts plainRows). Without it (KurrentDB) slonik's pool answers the page.
   */
  plainPool?: pg.Pool | null;
  /** This process's forwarder, when it runs one (for the cluster report). */
  forwarder?: (() => ForwarderStatus) | null;
  /** The bus's consumers in this process (Kafka), for /readyz. */
  busHealth?: (() => BusHealth[]) | null;
  /** The bus topic whose consumer lag the cluster report shows; EVENTS_TOPIC by default (tests use their own). */
  kafkaTopic?: string;
  /** How long the cluster report waits for each dependency; 1000 ms by default. */
  dependencyTimeoutMs?: number;
  /** The live feed of /ws (the notifier role); without it, /ws is not served. */
  live?: StockChangeFeed | null;
  /** Options of /ws (tests shorten its timers). */
  liveOptions?: Omit<LiveOptions, 'feed'>;
}

/** The revocations mirror's lease: what a logout waits, and how long a silent Redis (or PostgreSQL) is believed. */
export const DENYLIST_LEASE_MS = 150;

/**
 * The composition root of the HTTP server: shared services are decorated once here and
 * each feature registers as a plugin. Tests build the same app against real services.
 */
export async function buildApp(deps: AppDependencies) {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // A client may pass its own correlation id; every log line of the request carries it.
    requestIdHeader: 'x-correlation-id',
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    genReqId: newRequestId,
    bodyLimit: 64 * 1024,
    // Behind the proxies of TRUST_PROXY, request.ip is the client X-Forwarded-For names.
    trustProxy: deps.config.TRUST_PROXY.length > 0 ? deps.config.TRUST_PROXY : false,
    // Refusals that happen before a route is found: problem+json like every other error.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();

  // zod's own, with a fast path for the simplest shapes (path ids, X-Min-Position): fast-validator.ts.
  app.setValidatorCompiler(fastValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  checkEveryRequest(app);
  // Set on arrival (the id is known then), so that every answer carries them, errors
  // included: the correlation id and the security headers, in the one onRequest hook every
  // request runs (each hook is a step of fastify's hook runner on every request).
  const securityHeadersOf = await securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-correlation-id', request.id).headers(securityHeadersOf(request.url));
    done();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Stockroom', version: '0.1.0', description: 'Event-sourced stock of many stores.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
      servers: [{ url: publicUrl(deps.config), description: 'PUBLIC_URL: where clients reach this API' }],
    },
    transform: openApiRouteTransform,
    transformObject: openApiObjectTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  // Limits in Redis when there is one, so that replicas share them; a Redis that fails lets
  // the request through (the limits are a brake, the passwords' scrypt cost stays).
  await app.register(rateLimit, { global: false, ...(deps.redis ? { redis: deps.redis, nameSpace: 'rate-limit:', skipOnError: true } : {}) });

  const redis = deps.redis ?? null;
  const denylist = redis
    ? new RedisBackedDenylist({
        pool: deps.pool,
        redis,
        onError: (error) => app.log.warn({ err: error }, 'token denylist: Redis unavailable, asking PostgreSQL'),
        // Requests answered from memory; a logout waits about this long (revocation-mirror.ts).
        mirrorLeaseMs: DENYLIST_LEASE_MS,
      })
    : deps.databaseUrl
      ? new MirroredPostgresDenylist({
          pool: deps.pool,
          connectionString: deps.databaseUrl,
          leaseMs: DENYLIST_LEASE_MS,
          onError: (error) => app.log.warn({ err: error }, 'token denylist: its LISTEN session failed, asking PostgreSQL per request'),
        })
      : new PostgresTokenDenylist(deps.pool);
  if (denylist instanceof RedisBackedDenylist || denylist instanceof MirroredPostgresDenylist) app.addHook('onClose', async () => denylist.close());
  const hot = redis ? new RedisReadModel(redis) : null;

  // Snapshots live in PostgreSQL whichever store holds the events (docs/decisions.md, "Snapshots").
  const commands = new CommandHandler(deps.eventStore, { snapshots: { store: new PostgresSnapshotStore(deps.pool), log: app.log } });
  // A snapshot being written when the process stops is let finish: the pool closes after the app.
  app.addHook('onClose', async () => commands.snapshotsWritten());
  app.decorate('commands', commands);
  app.decorate('eventStore', deps.eventStore);
  await app.register(authPlugin, {
    secret: deps.jwtSecret,
    tokenTtlSeconds: deps.config.TOKEN_TTL_SECONDS,
    denylist,
    credentials: credentialsFromStreams(commands),
  });

  await app.register(metricsPlugin);
  await app.register(opsRoutes, {
    pool: deps.pool,
    forwarder: deps.forwarder ?? null,
    roles: deps.config.ROLES,
    bus: deps.busHealth ?? null,
    ...(hot ? { redisCheckpoint: () => hot.watermark() } : {}),
    cluster: {
      eventStore: deps.eventStore,
      redis,
      kafka: deps.config.KAFKA_BROKERS
        ? { brokers: deps.config.KAFKA_BROKERS.split(',').map((broker) => broker.trim()), topic: deps.kafkaTopic ?? EVENTS_TOPIC }
        : null,
      smtpUrl: deps.config.SMTP_URL ?? null,
      ...(deps.dependencyTimeoutMs ? { timeoutMs: deps.dependencyTimeoutMs } : {}),
    },
  });

  if (deps.config.ROLES.includes('write-api')) {
    await app.register(writeApi, { pool: deps.pool, loginRateLimit: deps.config.LOGIN_RATE_LIMIT });
  }
  if (deps.config.ROLES.includes('read-api')) {
    const signal = deps.databaseUrl ? new ProgressSignal(deps.databaseUrl) : null;
    if (signal) {
      signal.start();
      app.addHook('onClose', () => signal.close());
    }
    await app.register(readApi, {
      pool: deps.pool,
      plain: deps.plainPool ?? null,
      signal,
      cursorSecret: deps.jwtSecret,
      hot,
      history: streamHistory(deps.eventStore),
      // KurrentDB has no trail index of ours: the trail reads $all through the port.
      ...(deps.config.EVENT_STORE === 'eventstoredb' ? { trail: eventStoreAuditTrail(deps.eventStore) } : {}),
    });
    if (deps.live) await app.register(liveApi, { ...deps.liveOptions, feed: deps.live });
  }
  return app;
}
