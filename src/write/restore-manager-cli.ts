import { ConfigError, loadConfig } from '../shared/config.js';
import { startEmbeddedPostgres } from '../shared/db/embedded.js';
import { migrate } from '../shared/db/migrate.js';
import { createDatabasePool } from '../shared/db/pool.js';
import { openEventStore } from '../shared/event-store/open.js';
import { CommandHandler } from './command-handler.js';
import { restoreManager } from './restore-manager.js';

const usage = 'usage: npm run users:restore-manager -- <username> [--reset-password]   (with the server\'s settings: DATABASE_URL, or DATA_DIR with the server stopped)';

/** `npm run users:restore-manager`: see restore-manager.ts. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const username = args.find((arg) => !arg.startsWith('--'));
  if (!username || args.some((arg) => arg.startsWith('--') && arg !== '--reset-password')) throw new Error(usage);
  const config = loadConfig();
  const embedded = config.DATABASE_URL ? null : await startEmbeddedPostgres(config.DATA_DIR, () => {});
  const databaseUrl = config.DATABASE_URL ?? embedded!.url;
  await migrate(databaseUrl);
  const pool = await createDatabasePool(databaseUrl);
  const opened = await openEventStore(config, pool, { onWait: ({ reason }) => console.error(`waiting for KurrentDB: ${reason}`) });
  try {
    const restored = await restoreManager(new CommandHandler(opened.store), opened.store, username, {
      resetPassword: args.includes('--reset-password'),
    });
    console.log(`${restored.username} (${restored.userId}): ${restored.outcome === 'already' ? 'already a manager' : restored.outcome}`);
    if (restored.password) console.log(`password (shown once): ${restored.password}`);
  } finally {
    await opened.close();
    await pool.end();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
});
