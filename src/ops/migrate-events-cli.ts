import { parseArgs } from 'node:util';
import { describeFailure } from '../shared/cli.js';
import { ConfigError, loadConfig } from '../shared/config.js';
import { migrate } from '../shared/db/migrate.js';
import { createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { migrateEvents, moveCheckpoints } from './migrate-events.js';

const USAGE = 'usage: npm run events:migrate -- --to eventstoredb|postgres   (DATABASE_URL and EVENTSTOREDB_URL name both stores)';

/**
 * `npm run events:migrate -- --to eventstoredb` copies the PostgreSQL event store of
 * DATABASE_URL into the KurrentDB of EVENTSTOREDB_URL; `--to postgres` copies back. Run it
 * with the writers stopped. Resumable: run it again after a stop and it goes on.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { to: { type: 'string' }, 'page-size': { type: 'string' } }, strict: true });
  const to = values.to;
  if (to !== 'eventstoredb' && to !== 'postgres') throw new ConfigError([`--to: ${USAGE}`]);
  // Both stores are opened whatever EVENT_STORE says (it names the one the servers use):
  // loaded as eventstoredb so that EVENTSTOREDB_URL is checked, and not refused as unused.
  const config = loadConfig({ ...process.env, EVENT_STORE: 'eventstoredb' });
  if (config.DATABASE_URL === undefined) throw new ConfigError(['DATABASE_URL: must be set: the PostgreSQL event store, and where the progress is kept']);
  if (config.EVENTSTOREDB_URL === undefined) throw new ConfigError(['EVENTSTOREDB_URL: must be set: the KurrentDB to copy into or from']);
  const pageSize = Number(values['page-size'] ?? 1_000);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ConfigError([`--page-size: a positive whole number, not ${values['page-size']}`]);
  await migrate(config.DATABASE_URL);
  const pool = await createDatabasePool(config.DATABASE_URL);
  const postgres = await openEventStore({ EVENT_STORE: 'postgres', EVENTSTOREDB_URL: undefined }, pool);
  const kurrent = await openEventStore({ EVENT_STORE: 'eventstoredb', EVENTSTOREDB_URL: config.EVENTSTOREDB_URL }, pool, {
    onWait: ({ reason }) => process.stderr.write(`events:migrate: waiting for KurrentDB: ${reason}\n`),
  });
  try {
    const [source, target] = to === 'eventstoredb' ? [postgres, kurrent] : [kurrent, postgres];
    const name = `${source.kind}->${target.kind}`;
    let shown = 0;
    const result = await migrateEvents({
      source: source.store,
      target: target.store,
      pool,
      name,
      pageSize,
      progress: ({ events, through, head }) => {
        if (events - shown < 10_000 && through < head) return;
        shown = events;
        const percent = head === 0n ? 100 : Number((through * 100n) / head);
        process.stderr.write(`events:migrate: ${events} events copied, source position ${through} of ${head} (${Math.min(100, percent)}%)\n`);
      },
    });
    console.log(`copied ${result.events} events (${name}), through source position ${result.through}`);
    const head = await target.store.headPosition();
    await moveCheckpoints(pool, head);
    console.log(`the forwarder's, the mailer's and the read model's positions now stand at the new store's head, ${head}`);
    console.log(
      [
        'Positions differ between the stores. Before starting the servers again:',
        `  1. set EVENT_STORE=${to} for every process;`,
        '  2. npm run projections:rebuild   (the PostgreSQL read model, from the new store);',
        '  3. delete the Redis hot model\'s keys (prefix stockroom:), which its projector rebuilds from the new store;',
        '  4. npm run verify                (it must report 0 differences).',
      ].join('\n'),
    );
  } finally {
    await kurrent.close();
    await postgres.close();
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(`events:migrate failed: ${describeFailure(error)}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
