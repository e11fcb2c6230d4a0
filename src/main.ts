import pino from 'pino';
import { buildApp } from './app.js';
import { createEventBus, startBackground } from './background.js';
import { KafkaBus } from './shared/event-bus/kafka.js';
import { jwtSecret } from './shared/auth/secret.js';
import { ConfigError, loadConfig } from './shared/config.js';
import { startEmbeddedPostgres } from './shared/db/embedded.js';
import { migrate } from './shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from './shared/db/pool.js';
import { PostgresEventStore } from './shared/event-store/postgres/index.js';
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
  const appendPool = createAppendPool(databaseUrl);
  shutdown.unshift(() => appendPool.end());
  const eventStore = new PostgresEventStore(pool, appendPool);
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
    redis,
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
  console.error(error);
  process.exit(1);
});
