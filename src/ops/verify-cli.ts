import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres } from '../shared/db/embedded.js';
import { migrate } from '../shared/db/migrate.js';
import { createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { createRedis } from '../shared/redis.js';
import { describeDifference } from './verify/difference.js';
import { verify } from './verify/run.js';

/**
 * `npm run verify [-- --against <root>]`: every stream folded and its hash chain checked,
 * compared with every read model; prints each difference and the root hash, and exits 1 when
 * there is a difference (2 when it could not run).
 */
async function main(): Promise<number> {
  const { values } = parseArgs({ options: { against: { type: 'string' }, 'redis-prefix': { type: 'string' } }, strict: true });
  const config = loadConfig();
  // The embedded default: the running server's PostgreSQL when `npm start` runs, else one of its own.
  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres(config.DATA_DIR, (message) => process.stderr.write(`verify: ${message}\n`), { attach: true });
  const databaseUrl = config.DATABASE_URL ?? embedded!.url;
  await migrate(databaseUrl);
  const pool = await createDatabasePool(databaseUrl);
  const redis = config.REDIS_URL ? createRedis(config.REDIS_URL, { keyPrefix: values['redis-prefix'] ?? 'stockroom:', commandTimeoutMs: 10_000, connectTimeoutMs: 2_000 }) : null;
  const opened = await openEventStore(config, pool, { onWait: ({ reason }) => process.stderr.write(`verify: waiting for KurrentDB: ${reason}\n`) });
  try {
    let shown = 0;
    const report = await verify({
      pool,
      store: opened.store,
      redis,
      ...(values.against !== undefined ? { against: values.against } : {}),
      progress: (events, position, head) => {
        if (events - shown < 50_000 && position < head) return;
        shown = events;
        const percent = head === 0n ? 100 : Number((position * 100n) / head);
        process.stderr.write(`verify: ${events} events read, position ${position} of ${head} (${percent}%)\n`);
      },
    });
    for (const difference of report.differences) console.log(describeDifference(difference));
    console.log(`verified ${report.events} events in ${report.streams} streams through position ${report.head}: ${report.differences.length} difference(s)`);
    if (report.startsRecorded > 0) console.log(`recorded the starting hash of ${report.startsRecorded} stream(s) written before the hash chain`);
    if (report.against) console.log(`against ${report.against.root}: ${report.against.matches ? 'unchanged' : `CHANGED (now ${report.against.now})`}`);
    console.log(`root ${report.root}`);
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    await opened.close();
    redis?.disconnect();
    await pool.end();
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError || error instanceof RangeError ? error.message : error);
    process.exit(2);
  },
);
