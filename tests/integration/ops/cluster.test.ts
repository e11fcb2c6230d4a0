import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { sql } from 'slonik';
import { SMTPServer } from 'smtp-server';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../../src/app.js';
import type { ClusterReport } from '../../../src/ops/cluster-report.js';
import { type Heartbeat, startHeartbeat } from '../../../src/ops/heartbeat.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { loadConfig } from '../../../src/shared/config.js';
import { createDatabasePool } from '../../../src/shared/db/pool.js';
import { KafkaBus } from '../../../src/shared/event-bus/kafka.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { newId } from '../../../src/shared/ids.js';
import { createRedis, type Redis } from '../../../src/shared/redis.js';
import { packageVersion } from '../../../src/shared/version.js';
import { stores } from '../../../src/write/aggregates.js';
import { CommandHandler } from '../../../src/write/command-handler.js';
import { ensureFirstManager } from '../../../src/write/first-manager.js';
import { storeStream } from '../../../src/write/streams.js';
import { ADMIN } from '../../support/app.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { kafkaBrokers } from '../../support/kafka.js';

const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Context {
  db: TestDatabase;
  eventStore: PostgresEventStore;
  /** Silent TCP servers (accept, never answer) and the SMTP server, closed at the end. */
  servers: (Server | SMTPServer)[];
  clients: Redis[];
}

const test = suite<Context>('ops: the cluster report');

type App = Awaited<ReturnType<typeof buildApp>>;

/** One process's HTTP server on the shared database, with the settings given. */
async function app(context: Context, env: Record<string, string> = {}, extra: { redis?: Redis; kafkaTopic?: string } = {}): Promise<App> {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET, ...env });
  return buildApp({ config, pool: context.db.pool, eventStore: context.eventStore, jwtSecret: JWT_SECRET, logger: false, redis: extra.redis ?? null, ...(extra.kafkaTopic ? { kafkaTopic: extra.kafkaTopic } : {}) });
}

async function token(server: App): Promise<string> {
  const response = await server.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
  assert.is(response.statusCode, 200, response.body);
  return response.json<{ token: string }>().token;
}

/** The report as `server` answers it; the token may come from another process (one with the write API). */
async function report(server: App, bearer?: string): Promise<ClusterReport> {
  const response = await server.inject({ method: 'GET', url: '/api/reports/cluster', headers: { authorization: `Bearer ${bearer ?? (await token(server))}` } });
  assert.is(response.statusCode, 200, response.body);
  return response.json<ClusterReport>();
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP server that accepts connections and never says a word: a dependency that hangs. */
async function silentServer(context: Context): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  context.servers.push(server);
  const close = server.close.bind(server);
  server.close = (callback) => {
    sockets.forEach((socket) => socket.destroy());
    return close(callback);
  };
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const dependency = (r: ClusterReport, name: string) => r.dependencies.find((d) => d.name === name);

test.before(async (context) => {
  context.db = await createTestDatabase('cluster');
  context.eventStore = new PostgresEventStore(context.db.pool);
  context.servers = [];
  context.clients = [];
  await ensureReadModelSchema(context.db.url);
  const first = await app(context);
  await ensureFirstManager(first.commands, ADMIN);
  await first.close();
});
test.after(async ({ db, servers, clients }) => {
  for (const client of clients) client.disconnect();
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.drop();
});

test('two processes on one database are both listed; one that stops beating is shown gone; a clean stop leaves no row', async (context) => {
  const [one, two] = [await app(context), await app(context, { ROLES: 'read-api' })];
  // The second process has a pool of its own, so that it can lose the database alone.
  const secondPool = await createDatabasePool(context.db.url, { maximumPoolSize: 2 });
  let sockets = 3;
  const beats: Heartbeat[] = [
    await startHeartbeat({ pool: context.db.pool, roles: ['write-api', 'read-api'], version: packageVersion, intervalMs: 100, gauges: () => ({ websockets: sockets }) }),
    await startHeartbeat({ pool: secondPool, roles: ['read-api'], version: packageVersion, intervalMs: 100 }),
  ];
  try {
    const [first, second] = beats.map((beat) => beat.id) as [string, string];
    sockets = 5;
    const bearer = await token(one);
    const both = await eventually(() => report(two, bearer), (r) => r.processes.find((p) => p.id === first)?.websockets === 5, 'the gauge of the next beat');
    const mine = both.processes.find((p) => p.id === first)!;
    assert.equal({ ...mine, uptimeSeconds: 0, memoryBytes: 0, heartbeatAgeSeconds: 0 }, {
      id: first,
      roles: ['write-api', 'read-api'],
      version: packageVersion,
      host: mine.host,
      pid: process.pid,
      uptimeSeconds: 0,
      memoryBytes: 0,
      heartbeatAgeSeconds: 0,
      gone: false,
      websockets: 5,
      gauges: { websockets: 5 },
    });
    assert.ok(mine.memoryBytes > 10_000_000 && mine.heartbeatAgeSeconds < 1 && mine.uptimeSeconds >= 0);
    assert.equal(
      both.processes.find((p) => p.id === second),
      { ...both.processes.find((p) => p.id === second)!, roles: ['read-api'], gone: false, websockets: 0, gauges: {} },
    );

    // The second process loses the database: its heartbeat ages, and after three intervals it is gone.
    await secondPool.end();
    const after = await eventually(() => report(one, bearer), (r) => r.processes.find((p) => p.id === second)?.gone === true, 'the silent process to be gone', 3_000);
    assert.ok(after.processes.find((p) => p.id === second)!.heartbeatAgeSeconds >= 0.3);
    assert.is(after.processes.find((p) => p.id === first)!.gone, false);

    // A day later its row is deleted by whoever beats next.
    await context.db.pool.query(sql.unsafe`update processes set heartbeat_at = now() - interval '25 hours' where id = ${second}`);
    await eventually(() => report(one, bearer), (r) => !r.processes.some((p) => p.id === second), 'the day-old row to be deleted', 3_000);

    await beats[0]!.stop();
    assert.not.ok((await report(one)).processes.some((p) => p.id === first), 'a clean stop deletes its row');
  } finally {
    await beats[0]!.stop().catch(() => {});
    await beats[1]!.stop().catch(() => {});
    await one.close();
    await two.close();
  }
});

test('dependencies: the event store, PostgreSQL, Redis and SMTP healthy, each with its latency; subscribers beside the head', async (context) => {
  const smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  context.servers.push(smtp);
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const redis = createRedis(REDIS_URL, { keyPrefix: `stockroom-test:cluster:${randomBytes(3).toString('hex')}:`, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
  context.clients.push(redis);
  await eventually(async () => redis.status, (status) => status === 'ready', 'Redis');
  const server = await app(context, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` }, { redis });
  try {
    const storeId = newId();
    await new CommandHandler(context.eventStore).handle(stores, storeStream(storeId), { type: 'OpenStore', storeId, name: 'Quay', code: null, address: null }, { actor: null, correlationId: newId(), now: new Date() });
    const r = await report(server);
    assert.equal(r.dependencies.map((d) => `${d.name}:${d.healthy}`), ['event store:true', 'postgresql:true', 'redis:true', 'smtp:true']);
    assert.ok(r.dependencies.every((d) => d.latencyMs >= 0 && d.latencyMs < 1_000 && d.error === undefined));
    assert.is(r.kafka, null, 'the in-process bus has no consumer lag to show');
    assert.is(r.lastVerify, null);
    const head = Number(r.eventStoreHead);
    assert.ok(head > 0);
    const forwarder = r.subscribers.find((s) => s.name === 'forwarder')!;
    assert.equal(forwarder, { name: 'forwarder', checkpoint: '0', lagEvents: head, lagSeconds: forwarder.lagSeconds }, 'no forwarder ran: everything is behind');
    assert.ok(r.subscribers.some((s) => s.name === 'projector-postgres'));
    assert.equal(r.mail, { pending: 0, failing: 0, oldestPendingAt: null, sent: 0 });
    // The older fields stay, and /metrics still answers.
    assert.is(r.forwarder.lag.head, r.eventStoreHead);
    const metrics = await server.inject({ method: 'GET', url: '/metrics' });
    assert.is(metrics.statusCode, 200);
    assert.match(metrics.body, /stockroom_lag_events\{subscriber="forwarder"\}/);
    // The mail queue, for an alert on its age: empty here.
    assert.match(metrics.body, /^stockroom_mail_queue_pending 0$/m);
    assert.match(metrics.body, /^stockroom_mail_queue_oldest_seconds 0$/m);
  } finally {
    await server.close();
  }
});

test('a dependency that is down or hangs is marked unhealthy within its timeout; the report still answers', async (context) => {
  const redis = createRedis('redis://127.0.0.1:1', { keyPrefix: 'stockroom-test:nowhere:' });
  context.clients.push(redis);
  const [kafka, smtp] = [await silentServer(context), await silentServer(context)];
  const server = await app(context, { KAFKA_BROKERS: kafka, SMTP_URL: `smtp://${smtp}` }, { redis });
  try {
    const bearer = await token(server);
    const started = Date.now();
    const r = await report(server, bearer);
    const took = Date.now() - started;
    assert.ok(took < 2_000, `answered in ${took} ms: the checks run side by side, 1 s each at most`);
    assert.equal(r.dependencies.map((d) => `${d.name}:${d.healthy}`), ['event store:true', 'postgresql:true', 'redis:false', 'kafka:false', 'smtp:false']);
    assert.match(dependency(r, 'smtp')!.error ?? '', /no answer within 1000 ms/);
    assert.ok(dependency(r, 'smtp')!.latencyMs >= 990);
    assert.ok(dependency(r, 'redis')!.latencyMs < 1_000, 'a refused connection fails at once');
    assert.equal({ ...r.kafka, error: '' }, { topic: 'stockroom.events', groups: [], error: '' });
    assert.ok(r.kafka?.error);
  } finally {
    await server.close();
  }
});

test('Kafka: consumer lag per group and partition through a real broker', async (context) => {
  const topic = `stockroom-test-cluster-${randomBytes(3).toString('hex')}`;
  const bus = new KafkaBus({ brokers: kafkaBrokers(), topic, partitions: 3 });
  const group = `stockroom-test-cluster-${randomBytes(3).toString('hex')}`;
  await bus.ensureTopic();
  const commands = new CommandHandler(context.eventStore);
  for (let i = 0; i < 6; i += 1) {
    const storeId = newId();
    await commands.handle(stores, storeStream(storeId), { type: 'OpenStore', storeId, name: `S${i}`, code: null, address: null }, { actor: null, correlationId: newId(), now: new Date() });
  }
  const events = await context.eventStore.readAll({ after: 0n, maxCount: 1_000 });
  await bus.publish(events, events.at(-1)!.position);
  const consumer = await bus.subscribe({ group, onBatch: async () => {} });
  const server = await app(context, { KAFKA_BROKERS: kafkaBrokers().join(',') }, { kafkaTopic: topic });
  try {
    // One login for every try: the login limit (10 a minute) would refuse a slow machine's tries.
    const bearer = await token(server);
    const r = await eventually(
      () => report(server, bearer),
      (r) => r.kafka?.groups.find((g) => g.group === group)?.lag === 0,
      'the test group to commit everything',
      30_000,
    );
    assert.ok(dependency(r, 'kafka')!.healthy);
    const mine = r.kafka!.groups.find((g) => g.group === group)!;
    assert.equal(mine.partitions.map((p) => p.partition), [0, 1, 2]);
    assert.ok(mine.partitions.every((p) => p.committedOffset === p.endOffset && p.lag === 0));
    const total = mine.partitions.reduce((sum, p) => sum + Number(p.endOffset), 0);
    assert.ok(total >= events.length, 'every event (and the watermarks) on the topic');
    for (const known of ['stockroom-projector-postgres', 'stockroom-projector-redis', 'stockroom-mailer']) {
      const idle = r.kafka!.groups.find((g) => g.group === known)!;
      assert.ok(idle, `${known} is always shown`);
      assert.ok(idle.partitions.every((p) => p.committedOffset === null), `${known} never read this topic`);
      assert.is(idle.lag, total, `${known}: everything is behind`);
    }
  } finally {
    await server.close();
    await consumer.stop();
    await bus.close();
  }
});

test('the report is documented in /docs/json and is for managers', async (context) => {
  const server = await app(context);
  try {
    const docs = (await server.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }> } }> }>();
    const properties = docs.paths['/api/reports/cluster']!.get.responses['200']!.content['application/json']!.schema.properties;
    for (const field of ['forwarder', 'projections', 'eventStoreHead', 'subscribers', 'processes', 'dependencies', 'kafka', 'mail', 'lastVerify']) {
      assert.ok(field in properties, field);
    }
    assert.is((await server.inject({ method: 'GET', url: '/api/reports/cluster' })).statusCode, 401);
  } finally {
    await server.close();
  }
});

test.run();
