import { loadConfig } from '../shared/config.js';
import { createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { readModelProjections } from './postgres/read-model-projections.js';
import { runStuckCommand } from './stuck-command.js';

/** `npm run projections:stuck [list | retry <streamId>... | retry --all]` against DATABASE_URL. */
async function main(): Promise<number> {
  const config = loadConfig();
  if (!config.DATABASE_URL) {
    console.error('projections:stuck needs DATABASE_URL: the database of the running processes');
    return 2;
  }
  const pool = await createDatabasePool(config.DATABASE_URL);
  const opened = await openEventStore(config, pool, { onWait: ({ reason }) => console.error(`waiting for KurrentDB: ${reason}`) });
  try {
    return await runStuckCommand(process.argv.slice(2), { pool, store: opened.store, projections: readModelProjections, out: (line) => console.log(line) });
  } finally {
    await opened.close();
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`projections:stuck failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
