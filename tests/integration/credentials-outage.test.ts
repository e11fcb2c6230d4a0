import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { createAppendPool, createDatabasePool, type DatabasePool } from '../../src/shared/db/pool.js';
import { isDatabaseUnreachable } from '../../src/shared/db/unreachable.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { CommandHandler } from '../../src/write/command-handler.js';
import { credentialsFromStreams } from '../../src/write/credentials.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { firstManagerId } from '../support/first-manager.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** The event store reached through a TCP proxy the test takes down, as in a PostgreSQL outage. */
interface Context {
  db: TestDatabase;
  proxy: TcpProxy;
  pool: DatabasePool;
  appendPool: pg.Pool;
  commands: CommandHandler;
  userId: string;
}

const test = suite<Context>('credentials: the last known ones, for a bounded time, while the event store is away');

test.before(async (context) => {
  context.db = await createTestDatabase('credentials_outage');
  const target = new URL(context.db.url);
  context.proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const url = context.proxy.urlFor(context.db.url);
  context.pool = await createDatabasePool(url);
  context.appendPool = createAppendPool(url);
  context.commands = new CommandHandler(new PostgresEventStore(context.pool, context.appendPool));
  context.userId = await firstManagerId(context.commands);
});
test.after(async ({ db, proxy, pool, appendPool }) => {
  await proxy.up().catch(() => {});
  // The pool's connections were cut under it: ending it may report that once more.
  await pool.end().catch(() => {});
  await appendPool.end();
  await proxy.close();
  await db.drop();
});

test('within the bound the last credentials answer; past it, the outage is the answer', async ({ proxy, commands, userId }) => {
  const patient = credentialsFromStreams(commands, 0, 60_000);
  const strict = credentialsFromStreams(commands, 0, 0);
  const before = await patient(userId);
  await strict(userId);
  assert.is(before?.role, 'manager');
  await proxy.down();
  try {
    const during = await patient(userId);
    assert.equal(during, before, 'the last known credentials, during the outage');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await strict(userId).then(
      () => assert.unreachable('past the bound the stream must be read'),
      (error: unknown) => assert.ok(isDatabaseUnreachable(error), String(error)),
    );
  } finally {
    await proxy.up();
  }
});

test.run();
