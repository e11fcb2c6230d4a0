import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { Forwarder } from '../../../src/projections/forwarder.js';
import { InProcessBus } from '../../../src/shared/event-bus/in-process.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** The log lines a forwarder writes, kept by level (the real logger's interface, recorded). */
const recordingLog = () => {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message = '') => void lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
};

const test = suite<{ db: TestDatabase }>('forwarder: a step-down says why');
test.before(async (context) => {
  context.db = await createTestDatabase('forwarder_step_down');
});
test.after(async ({ db }) => db.drop());

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

test('the leader whose lock connection is killed logs the cause at warn; a stop logs it at info', async ({ db }) => {
  const { lines, log } = recordingLog();
  const forwarder = new Forwarder({ store: new PostgresEventStore(db.pool), bus: new InProcessBus(), pool: db.pool, databaseUrl: db.url, log, retryMs: 100 });
  forwarder.start();
  try {
    await until(() => forwarder.status().leader, 'the lead');
    // Kill the session that holds the leader lock, as a restart of PostgreSQL or a network cut does.
    await db.pool.query(sql.unsafe`
      select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database()) and granted and mode = 'ExclusiveLock'`);
    await until(() => lines.some((line) => line.message.startsWith('forwarder stepped down')), 'the step-down');
    const down = lines.find((line) => line.message.startsWith('forwarder stepped down'))!;
    assert.is(down.level, 'warn');
    assert.match(down.message, /the connection holding the leader lock (ended|failed|stopped answering)/);
    assert.type(down.fields.cause, 'string');
    await until(() => forwarder.status().leader, 'the lead again');
  } finally {
    await forwarder.stop();
  }
  const stopped = lines.filter((line) => line.message.startsWith('forwarder stepped down')).at(-1)!;
  assert.is(stopped.level, 'info');
  assert.is(stopped.message, 'forwarder stepped down: the process is stopping');
});

test.run();
