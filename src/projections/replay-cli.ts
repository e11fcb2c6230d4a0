import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres } from '../shared/db/embedded.js';
import { migrate } from '../shared/db/migrate.js';
import { createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { readModelProjections } from './postgres/read-model-projections.js';
import { dropReplay, parseReplaySchema, ReplayRefused, replayReadModel, untilArgument } from './postgres/replay.js';
import { logRebuildProgress } from './postgres/rebuild.js';

const usage = 'usage: npm run replay -- --until <ISO time|position> --schema <name>   |   npm run replay -- --drop --schema <name>';

/** `npm run replay`: the read models as of a past point, in a schema beside the live one; `--drop` removes it. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { until: { type: 'string' }, schema: { type: 'string' }, drop: { type: 'boolean' } }, strict: true });
  if (values.schema === undefined) throw new ReplayRefused(`--schema is required\n${usage}`);
  const schema = parseReplaySchema(values.schema);
  if (!values.drop && values.until === undefined) throw new ReplayRefused(`--until is required\n${usage}`);
  const until = values.drop ? null : untilArgument.safeParse(values.until);
  if (until && !until.success) throw new ReplayRefused(`--until ${values.until}: must be an ISO 8601 time with its offset or a global position`);

  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'stockroom', role: 'replay' } });
  // The embedded default: the running server's PostgreSQL when `npm start` runs, else one of its own.
  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres(config.DATA_DIR, (message) => log.info(message), { attach: true });
  const databaseUrl = config.DATABASE_URL ?? embedded!.url;
  await migrate(databaseUrl);
  const pool = await createDatabasePool(databaseUrl);
  const opened = await openEventStore(config, pool, { onWait: ({ reason }) => log.warn({ reason }, 'waiting for KurrentDB') });
  try {
    if (values.drop) {
      await dropReplay(pool, schema);
      log.info({ schema }, 'replay dropped');
      return;
    }
    const result = await replayReadModel({ databaseUrl, pool, store: opened.store, projections: readModelProjections, schema, until: until!.data!, progress: logRebuildProgress(log) });
    log.info({ schema, until: result.until.toString(), events: result.events }, `replayed: query ${schema}.stock, ${schema}.stores, ... as of position ${result.until}`);
  } finally {
    await opened.close();
    await pool.end();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof ReplayRefused ? error.message : error);
  process.exit(1);
});
