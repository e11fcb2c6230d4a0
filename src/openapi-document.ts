import { buildApp } from './app.js';
import { loadConfig } from './shared/config.js';
import { createDatabasePool } from './shared/db/pool.js';
import { PostgresEventStore } from './shared/event-store/postgres/index.js';

/**
 * The OpenAPI document of every route, as /docs/json serves it, from the app built with
 * every role. slonik connects when the pool is made, so a PostgreSQL must answer
 * (DATABASE_URL, as CI provides); nothing is read or written there.
 */
export async function openApiDocument(databaseUrl: string): Promise<Record<string, unknown>> {
  const pool = await createDatabasePool(databaseUrl);
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: '/nonexistent' });
  const app = await buildApp({ config, pool, eventStore: new PostgresEventStore(pool), jwtSecret: 'openapi-document-only-never-signs-a-real-token', logger: false });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    await pool.end();
  }
}
