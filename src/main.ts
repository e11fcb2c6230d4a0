import pino from 'pino';
import { buildApp } from './app.js';
import { createEventBus, startBackground } from './background.js';
import { KafkaBus } from './shared/event-bus/kafka.js';
import { jwtSecret } from './shared/auth/secret.js';
import { ConfigError, loadConfig } from './shared/config.js';
import { startEmbeddedPostgres } from './shared/db/embedded.js';
import { migrate } from './shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from './shared/db/pool.js';
import { openEventStore, type OpenedEventStore } from './shared/event-store/open.js';
import type { Config } from './shared/config.js';
import type pg from 'pg';
import { serveWhileWaiting } from './ops/waiting-server.js';
import type { ReadinessCheck } from './ops/readiness.js';
import { ensureFirstManager } from './write/first-manager.js';
import { startHeartbeat } from './ops/heartbeat.js';
import { packageVersion } from './shared/version.js';
import { createRedis } from './shared/redis.js';

/** At most one call every 10 s: a Redis that is down would otherwise fill the log. */
const rateLimited = (log: (error: unknown) => void) => {
  let last = 0;
  return (error: unknown) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    log(error);
  };
};

/**
 * The event store of EVENT_STORE. KurrentDB may not be up yet (a cluster starting
 * together): the process waits with back-off, and meanwhile answers /healthz (alive) and
 * /readyz (503, naming the wait) on its port, instead of crashing in a loop.
 */
async function openEventStoreWaiting(config: Config, pool: Parameters<typeof openEventStore>[1], appendPool: pg.Pool | null, logger: pino.Logger): Promise<OpenedEventStore> {
  if (config.EVENT_STORE === 'postgres') return openEventStore(config, pool, { appendPool });
  let waiting: ReadinessCheck = { name: 'event-store', ok: false, reason: `connecting to KurrentDB at ${redactedUrl(config.EVENTSTOREDB_URL!)}` };
  const closeWaiting = await serveWhileWaiting(config.HOST, config.PORT, () => waiting);
  try {
    return await openEventStore(config, pool, {
      onWait({ attempt, retryInMs, reason }) {
        const where = redactedUrl(config.EVENTSTOREDB_URL!);
        waiting = { name: 'event-store', ok: false, reason: `waiting for KurrentDB at ${where}: ${reason} (attempt ${attempt}, next in ${Math.round(retryInMs / 100) / 10} s)`, detail: { attempt, retryInMs } };
        logger.warn({ attempt, retryInMs, reason, url: where }, 'KurrentDB is not reachable yet; waiting');
      },
    });
  } finally {
    await closeWaiting();
  }
}

/** A connection string without its password, for logs and /readyz. */
const redactedUrl = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

/** Starts one process with the roles of ROLES; with no settings, everything embedded. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
    // Processes on one database verify each other's tokens: a secret generated per DATA_DIR
    // would differ between them, and each would answer 401 to the others' tokens.
    if (config.DATABASE_URL !== undefined && config.JWT_SECRET === undefined) {
      throw new ConfigError([
        'JWT_SECRET: must be set when DATABASE_URL is: every process on that database signs and verifies tokens with it (a secret generated per DATA_DIR is not shared)',
      ]);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'stockroom' } });
  const shutdown: (() => Promise<void>)[] = [];
  // From the first moment: a Ctrl-C during start stops what has started (an embedded
  // PostgreSQL included) in reverse order, instead of leaving it behind.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    for (const step of shutdown) await step().catch((error: unknown) => logger.error({ err: error }, 'while stopping'));
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres(config.DATA_DIR, (message) => logger.info(message));
  if (embedded) shutdown.unshift(embedded.stop);
  const databaseUrl = config.DATABASE_URL ?? embedded!.url;

  await migrate(databaseUrl, (message) => logger.info(message));
  const pool = await createDatabasePool(databaseUrl);
  shutdown.unshift(() => pool.end());
  // The append pool serves the PostgreSQL event store's append alone.
  const appendPool = config.EVENT_STORE === 'postgres' ? createAppendPool(databaseUrl) : null;
  if (appendPool) shutdown.unshift(() => appendPool.end());
  const opened = await openEventStoreWaiting(config, pool, appendPool, logger);
  shutdown.unshift(() => opened.close());
  const eventStore = opened.store;
  // The cluster report lists this process from its heartbeat, from now on (a read-model
  // rebuild below may take a while). Each role started below may add figures to `gauges`,
  // read at every beat. Its stop is registered last, so that it runs first (below).
  const gauges: (() => Record<string, number>)[] = [];
  const heartbeat = await startHeartbeat({
    pool,
    roles: config.ROLES,
    version: packageVersion,
    log: logger,
    gauges: () => Object.assign({}, ...gauges.map((gauge) => gauge())),
  });

  const redis = config.REDIS_URL
    ? createRedis(config.REDIS_URL, { keyPrefix: 'stockroom:', onError: rateLimited((error) => logger.warn({ err: error }, 'Redis unavailable')) })
    : null;
  if (redis) shutdown.unshift(async () => void redis.disconnect());
  const bus = createEventBus(config, logger);
  const background = await startBackground({ config, pool, databaseUrl, eventStore, bus, log: logger, redis });
  shutdown.unshift(() => background.stop());

  const app = await buildApp({
    config,
    pool,
    eventStore,
    jwtSecret: await jwtSecret(config.JWT_SECRET, config.DATA_DIR),
    logger,
    databaseUrl,
    redis,
    plainPool: appendPool,
    forwarder: background.forwarder ? () => background.forwarder!.status() : null,
    busHealth: bus instanceof KafkaBus ? () => bus.health() : null,
    live: background.notifier,
  });
  shutdown.unshift(() => app.close());
  if (app.hasDecorator('liveConnections')) gauges.push(() => ({ websockets: app.liveConnections() }));
  // A stopping process leaves the cluster report at once, whatever the other steps take.
  shutdown.unshift(() => heartbeat.stop());

  if (config.ROLES.includes('write-api')) {
    const manager = await ensureFirstManager(app.commands, { username: config.ADMIN_USERNAME, password: config.ADMIN_PASSWORD });
    if (manager.created) logger.info({ username: manager.username }, 'created the first manager');
    if (manager.generatedPassword) {
      // Printed once, to the terminal only: it is not stored anywhere in clear.
      process.stdout.write(
        `\n  First manager: ${manager.username}\n  Password:      ${manager.generatedPassword}\n  (shown once; set ADMIN_PASSWORD to choose it)\n\n`,
      );
    }
  }

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  process.stdout.write(`\n  Stockroom is listening on ${address}  (API under /api, docs at ${address}/docs)\n\n`);

}

main().catch((error: unknown) => {
  // A setting found wrong only when used (the KurrentDB client's own parse): named, exit 2 as at start.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
