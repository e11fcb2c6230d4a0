import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { createAppendPool, createDatabasePool, type DatabasePool } from '../../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { ensureFirstManager } from '../../../src/write/first-manager.js';
import { ADMIN, type Client, type Harness, login, seedStore } from '../../support/app.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { assertProblem, assertWritten, sleep } from '../../support/http-assertions.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

/**
 * The app reaches PostgreSQL through a TCP proxy the test can take down: the database
 * stops answering (connections cut, new ones refused) as in a restart or outage.
 */
interface Context {
  db: TestDatabase;
  proxy: TcpProxy;
  pool: DatabasePool;
  appendPool: pg.Pool;
  harness: Harness;
  manager: Client;
  itemUrl: string;
  dataDir: string;
}

const test = suite<Context>('Ops: a database outage answers 503 with Retry-After');
const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

test.before(async (context) => {
  context.db = await createTestDatabase('outage');
  const target = new URL(context.db.url);
  context.proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = context.proxy.urlFor(context.db.url);
  context.pool = await createDatabasePool(url);
  context.appendPool = createAppendPool(url);
  const eventStore = new PostgresEventStore(context.pool, context.appendPool);
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-outage-'));
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET, DATA_DIR: context.dataDir });
  const app = await buildApp({ config, pool: context.pool, eventStore, jwtSecret: JWT_SECRET, logger: false });
  await ensureFirstManager(app.commands, ADMIN);
  context.harness = { db: context.db, app, eventStore, background: null, restart: async () => {}, close: async () => {} };
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  context.itemUrl = (await seedStore(context.harness, context.manager, 10)).itemUrl;
});

test.after(async ({ harness, pool, appendPool, proxy, db, dataDir }) => {
  await harness.app.close();
  await proxy.up().catch(() => {});
  await pool.end();
  await appendPool.end();
  await proxy.close();
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const assertUnavailable = (response: Awaited<ReturnType<Client['get']>>, what: string) => {
  const body = assertProblem(response, 503, { type: 'database-unavailable' });
  assert.ok(Number(response.headers['retry-after']) > 0, `${what}: Retry-After, got ${String(response.headers['retry-after'])}`);
  assert.is(body.instance !== undefined, true);
};

test('with the database gone, commands and reads answer 503 problem+json with Retry-After; back, they work', async ({ proxy, manager, itemUrl }) => {
  await proxy.down();
  // Past the credentials' freshness bound, so authentication too must ask the database.
  await sleep(1_100);
  assertUnavailable(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }), 'a command (connection refused)');
  assertUnavailable(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }, { 'idempotency-key': `k-${randomUUID()}` }), 'a keyed command');
  assertUnavailable(await manager.get('/api/stores'), 'a query');

  await proxy.up();
  assert.is(assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' })).quantity, 9, 'nothing was written during the outage');
});

test('a connection cut in the middle (server shutting down) is a 503 too', async ({ db, proxy, manager, itemUrl }) => {
  // Every connection of the app's pools is open and idle; the server terminates them as a shutdown does.
  await db.pool.query((await import('slonik')).sql.unsafe`
    select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
  await proxy.down();
  await sleep(1_100);
  assertUnavailable(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }), 'a command after termination');
  await proxy.up();
  assert.is(assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' })).quantity, 8);
});

test.run();
