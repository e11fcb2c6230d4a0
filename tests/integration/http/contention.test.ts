import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { createAppendPool, createDatabasePool, type DatabasePool } from '../../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { ADMIN, type Client, type Harness, type TestApp, clientWithToken, login, seedStore, startHarness } from '../../support/app.js';
import { quantityOf } from '../../support/http-assertions.js';

/** Two write APIs on one database, as two replicas behind a balancer: their commands race on one item. */
interface Context {
  harness: Harness;
  second: TestApp;
  pool: DatabasePool;
  appendPool: pg.Pool;
  manager: Client;
}

const test = suite<Context>('HTTP: a delta without If-Match that loses races tries again, never an unasked 409');
const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

test.before(async (context) => {
  context.harness = await startHarness('contention');
  context.pool = await createDatabasePool(context.harness.db.url);
  context.appendPool = createAppendPool(context.harness.db.url);
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET });
  context.second = await buildApp({ config, pool: context.pool, eventStore: new PostgresEventStore(context.pool, context.appendPool), jwtSecret: JWT_SECRET, logger: false });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness, second, pool, appendPool }) => {
  await second.close();
  await pool.end();
  await appendPool.end();
  await harness.close();
});

test('300 concurrent +1 over two write APIs all land, each answered 200', async ({ harness, second, manager }) => {
  const { itemUrl } = await seedStore(harness, manager, 0);
  const onSecond = clientWithToken({ ...harness, app: second }, manager.token);
  const responses = await Promise.all(
    Array.from({ length: 300 }, (_, index) => (index % 2 === 0 ? manager : onSecond).patch(itemUrl, { delta: 1, reason: 'received' })),
  );
  const statuses = new Map<number, number>();
  for (const response of responses) statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  assert.not.ok(statuses.has(409), `no 409 the client did not ask for: ${JSON.stringify([...statuses])}`);
  for (const response of responses) {
    if (response.statusCode === 503) assert.ok(Number(response.headers['retry-after']) > 0, 'a 503 says when to retry');
    else assert.is(response.statusCode, 200, response.body);
  }
  const landed = statuses.get(200) ?? 0;
  assert.is(await quantityOf(manager, itemUrl), landed, 'every 200 counted once, nothing else written');
  assert.is(landed, 300, `all landed within the deadline: ${JSON.stringify([...statuses])}`);
});

test.run();
