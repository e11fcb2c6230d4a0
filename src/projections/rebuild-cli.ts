import pino from 'pino';
import { describeFailure } from '../shared/cli.js';
import { loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres } from '../shared/db/embedded.js';
import { migrate } from '../shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { readModelProjections } from './postgres/read-model-projections.js';
import { logRebuildProgress, rebuildReadModel, withRebuildLock } from './postgres/rebuild.js';

/** `npm run projections:rebuild`: a fresh PostgreSQL read model from the event store, swapped in live. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'stockroom', role: 'rebuild' } });
  // The embedded default: the running server's PostgreSQL when `npm start` runs, else one of its own.
  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres(config.DATA_DIR, (message) => log.info(message), { attach: true });
  const databaseUrl = config.DATABASE_URL ?? embedded!.url;
  await migrate(databaseUrl);
  const pool = await createDatabasePool(databaseUrl);
  // The events come from the store EVENT_STORE names; the read model is PostgreSQL's either way.
  // A plain pg pool for PostgreSQL's pages: the rebuild reads every event (see PostgresEventStore).
  const plain = config.EVENT_STORE === 'postgres' ? createAppendPool(databaseUrl, 2) : null;
  const opened = await openEventStore(config, pool, { appendPool: plain, onWait: ({ reason }) => log.warn({ reason }, 'waiting for KurrentDB') });
  try {
    const store = opened.store;
    const result = await withRebuildLock(pool, () => rebuildReadModel({ databaseUrl, pool, store, projections: readModelProjections, progress: logRebuildProgress(log) }));
    log.info({ through: result.through.toString(), events: result.events }, 'rebuild done: the new read model is live');
  } finally {
    await opened.close();
    await plain?.end();
    await pool.end();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`projections:rebuild failed: ${describeFailure(error)}`);
  process.exit(1);
});
