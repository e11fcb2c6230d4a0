import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Forwarder } from '../../../src/projections/forwarder.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { event } from '../../contract/event-store.contract.js';
import { kafkaBrokers, testBus } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';

const run = promisify(execFile);
const test = suite<{ db: TestDatabase; store: PostgresEventStore }>('forwarder: event store → Kafka');

test.before(async (context) => {
  context.db = await createTestDatabase('forwarder');
  context.store = new PostgresEventStore(context.db.pool);
});
test.after(async ({ db }) => db.drop());

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

async function readTopic(topic: string, expected: number) {
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 100 });
  const messages: { key: string | null; type: string; value: string }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const type = message.headers?.['event-type']?.toString() ?? '';
      if (type !== '$watermark') messages.push({ key: message.key?.toString() ?? null, type, value: message.value?.toString() ?? '' });
    },
  });
  await until(() => messages.length >= expected, 20_000).catch(() => {});
  await consumer.disconnect();
  return messages;
}

test('two forwarders: one leads, the other takes over within seconds when it dies, and never both publish', async ({ db, store }) => {
  const bus = testBus('fwd');
  await bus.ensureTopic();
  const first = new Forwarder({ store, bus, pool: db.pool, databaseUrl: db.url, log: quietLog, retryMs: 200 });
  const second = new Forwarder({ store, bus, pool: db.pool, databaseUrl: db.url, log: quietLog, retryMs: 200 });
  first.start();
  await until(() => first.status().leader);
  second.start();
  let bothLed = false;
  const watch = setInterval(() => {
    if (first.status().leader && second.status().leader) bothLed = true;
  }, 5);
  try {
    for (let i = 0; i < 20; i += 1) await store.append(`thing-a${i % 4}`, [event('Before', { i })], 'any');
    await until(() => first.status().checkpoint >= 20n);
    assert.not.ok(second.status().leader, 'the second waits while the first leads');

    // The leader's database connection dies: its lock goes with it.
    await db.pool.query(sql.unsafe`
      select pg_terminate_backend(l.pid) from pg_locks l
       where l.locktype = 'advisory' and l.objid = 5108260417 % 4294967296 and l.granted`);
    const died = Date.now();
    await until(() => second.status().leader, 10_000);
    assert.ok(Date.now() - died < 5_000, `took over in ${Date.now() - died} ms`);
    for (let i = 0; i < 10; i += 1) await store.append(`thing-b${i % 2}`, [event('After', { i })], 'any');
    await until(() => second.status().checkpoint >= 30n);
  } finally {
    clearInterval(watch);
    await first.stop();
    await second.stop();
    await bus.close();
  }
  assert.not.ok(bothLed, 'never two leaders at once');
  const messages = await readTopic((bus as unknown as { options: { topic: string } }).options.topic, 30);
  const types = messages.map((m) => m.type);
  assert.is(types.filter((t) => t === 'Before').length >= 20, true);
  assert.is(types.filter((t) => t === 'After').length, 10, 'each later event published once');
});

test('kcat (not kafkajs) reads each event keyed by stream id, with headers and bigints as strings', async ({ db, store }) => {
  const bus = testBus('kcat', 2);
  await bus.ensureTopic();
  const topic = (bus as unknown as { options: { topic: string } }).options.topic;
  const forwarder = new Forwarder({ store, bus, pool: db.pool, databaseUrl: db.url, log: quietLog, retryMs: 100 });
  const head = await store.headPosition();
  await store.append('stockitem-kcat_1', [event('StockAdjusted', { delta: -2 })], 'any');
  await store.append('stockitem-kcat_2', [event('StockAdjusted', { delta: 5 })], 'any');
  forwarder.start();
  await until(async () => (await store.headPosition()) > head && forwarder.status().checkpoint >= (await store.headPosition()));
  await forwarder.stop();
  await bus.close();
  const { stdout } = await run('kcat', ['-b', kafkaBrokers()[0]!, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%h\t%s\n']);
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .filter(([, headers]) => !headers?.includes('$watermark'));
  const streams = lines.map(([key]) => key);
  assert.ok(streams.includes('stockitem-kcat_1') && streams.includes('stockitem-kcat_2'), stdout);
  for (const [key, headers, body] of lines) {
    assert.match(headers!, /event-type=StockAdjusted/);
    assert.match(headers!, /position=\d+/);
    assert.match(headers!, /revision=\d+/);
    const parsed = JSON.parse(body!) as { streamId: string; position: unknown; revision: unknown };
    assert.is(parsed.streamId, key);
    assert.type(parsed.position, 'string', 'the position survives as a string');
    assert.match(String(parsed.position), /^\d+$/);
  }
});

test.run();
