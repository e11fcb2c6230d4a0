import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { createAppendPool, createDatabasePool, type DatabasePool } from '../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { CommandHandler } from '../../src/write/command-handler.js';
import { credentialsFromStreams } from '../../src/write/credentials.js';
import { userStream } from '../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { firstManagerId } from '../support/first-manager.js';
import { waitFor } from '../support/wait-for.js';

interface Context {
  db: TestDatabase;
  pool: DatabasePool;
  appendPool: pg.Pool;
  commands: CommandHandler;
  userId: string;
}

const test = suite<Context>('credentials: a user in use is read again before the cached state is too old');

test.before(async (context) => {
  context.db = await createTestDatabase('credentials_refresh');
  context.pool = await createDatabasePool(context.db.url);
  context.appendPool = createAppendPool(context.db.url);
  context.commands = new CommandHandler(new PostgresEventStore(context.pool, context.appendPool));
  context.userId = await firstManagerId(context.commands);
});
test.after(async ({ db, pool, appendPool }) => {
  await pool.end();
  await appendPool.end();
  await db.drop();
});

test('past three quarters of maxAgeMs a request is answered from memory and starts the read; a state older than maxAgeMs is never answered', async ({ commands, userId }) => {
  const maxAgeMs = 4_000;
  const credentials = credentialsFromStreams(commands, maxAgeMs);
  const first = await credentials(userId);
  assert.is(first?.role, 'manager');
  const seen = commands.recent(userStream(userId), maxAgeMs)!.verifiedAt;
  assert.equal(credentials.fresh!(userId), first, 'fresh: answered from memory');

  await new Promise((resolve) => setTimeout(resolve, maxAgeMs * 0.8));
  assert.equal(credentials.fresh!(userId), first, 'still fresh, and the same object');
  await waitFor(() => commands.recent(userStream(userId), maxAgeMs)!.verifiedAt > seen, 'the stream to be read again in the background', 5_000);

  // Without requests nothing reads it again: past maxAgeMs, memory does not answer.
  const stale = credentialsFromStreams(commands, 50);
  await stale(userId);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.is(stale.fresh!(userId), undefined, 'older than maxAgeMs: the source must read');
});

test.run();
