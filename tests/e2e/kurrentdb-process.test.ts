import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { jsonCaller } from '../support/json-call.js';
import { type KurrentDbGrpcDouble, startKurrentDbGrpcDouble } from '../support/kurrentdb-grpc-double.js';

/**
 * `npm start` with EVENT_STORE=eventstoredb against the test double of KurrentDB's gRPC
 * services (KurrentDB cannot run here): the newcomer's walk over HTTP, the events in the
 * double and the read model in PostgreSQL; and a start while KurrentDB is not up yet.
 */
const test = suite<{ dataDir: string; db: TestDatabase; double: KurrentDbGrpcDouble | null; child: ChildProcess | null }>('e2e: a process on KurrentDB (test double)');

const PASSWORD = 'walk-password-0123';

test.before.each(async (context) => {
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-kurrent-'));
  context.db = await createTestDatabase('kurrent_process');
  context.double = null;
  context.child = null;
});
test.after.each(async ({ dataDir, db, double, child }) => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  await double?.stop();
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

function start(context: { dataDir: string; db: TestDatabase; child: ChildProcess | null }, eventStoreUrl: string, port: number) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: context.dataDir,
    DATABASE_URL: context.db.url,
    JWT_SECRET: 'kurrent-process-test-secret-0123456789-abcdefghij',
    ADMIN_PASSWORD: PASSWORD,
    EVENT_STORE: 'eventstoredb',
    EVENTSTOREDB_URL: eventStoreUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  for (const name of ['REDIS_URL', 'KAFKA_BROKERS', 'NODE_ENV', 'SMTP_URL', 'ROLES']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  context.child = child;
  const output = { text: '' };
  child.stdout!.on('data', (chunk) => (output.text += chunk.toString()));
  child.stderr!.on('data', (chunk) => (output.text += chunk.toString()));
  return output;
}

async function listening(child: ChildProcess, output: { text: string }, ms = 90_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!/listening on (http:\/\/\S+)/.test(output.text)) {
    if (child.exitCode !== null) throw new Error(`the process exited early:\n${output.text}`);
    if (Date.now() > deadline) throw new Error(`the process did not listen within ${ms} ms:\n${output.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return /listening on (http:\/\/\S+)/.exec(output.text)![1]!;
}

test('the newcomer\'s walk: store, SKU, stock item, adjustment, read back with X-Min-Position, history', async (context) => {
  // Announcing BatchAppend as a real server does: the process appends through it.
  const double = await startKurrentDbGrpcDouble({ batchAppend: true });
  context.double = double;
  const output = start(context, double.url, 0);
  const base = await listening(context.child!, output);
  let token = '';
  const call = jsonCaller(base, () => token);
  token = String((await call('POST', '/api/auth/login', { username: 'admin', password: PASSWORD })).token);
  const appendsBefore = double.calls.batchAppend;
  const store = await call('POST', '/api/stores', { name: 'Harbour' });
  const sku = await call('POST', '/api/skus', { code: 'TEA-01', name: 'Green tea', price: '4.50', lowStockThreshold: 5 });
  await call('POST', `/api/inventory/stores/${store.id}/items`, { skuId: sku.id, quantity: 12 });
  const adjusted = await call('PATCH', `/api/inventory/stores/${store.id}/items/${sku.id}`, { delta: -5, reason: 'sold' }, { 'idempotency-key': 'walk-adjust-1' });
  // A retry under the same key is answered from the first run (the event-id index), not applied twice.
  const retried = await call('PATCH', `/api/inventory/stores/${store.id}/items/${sku.id}`, { delta: -5, reason: 'sold' }, { 'idempotency-key': 'walk-adjust-1' });
  assert.is(retried.position, adjusted.position);
  assert.ok(double.calls.batchAppend - appendsBefore >= 4, 'the commands went to KurrentDB');

  const item = await call('GET', `/api/inventory/stores/${store.id}/items/${sku.id}`, undefined, { 'x-min-position': adjusted.position });
  assert.is(item.quantity, 7);
  // asOf: the position the adjustment was written at, a KurrentDB commit position.
  const before = await call('GET', `/api/inventory/stores/${store.id}/items/${sku.id}?asOf=${BigInt(adjusted.position) - 1n}`);
  assert.is(before.quantity, 12);
  const atNow = await call('GET', `/api/inventory/stores/${store.id}/items/${sku.id}?asOf=${encodeURIComponent(new Date().toISOString())}`);
  assert.is(atNow.quantity, 7);
  // A store with stock cannot close: its items are found in KurrentDB's streams.
  const close = await fetch(`${base}/api/stores/${store.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.is(close.status, 409, await close.text());
  // Readiness and lag read KurrentDB's head, not es_events.
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: { name: string; detail?: { head?: string; behindEvents?: number } }[] };
  const readModel = ready.checks.find((check) => check.name === 'read-model');
  assert.is(readModel?.detail?.head, adjusted.position);
  assert.is(readModel?.detail?.behindEvents, 0);
  const history = await call('GET', `/api/inventory/stores/${store.id}/items/${sku.id}/history`);
  assert.equal((history.items as { type: string }[]).map((entry) => entry.type), ['StockItemAdded', 'StockAdjusted']);
  // PostgreSQL holds the read model and the id index, not the events.
  assert.is(Number(await context.db.pool.oneFirst(sql.unsafe`select count(*) from es_events`)), 0);
  assert.ok(Number(await context.db.pool.oneFirst(sql.unsafe`select count(*) from kurrentdb_event_ids`)) >= 4);
});

test('KurrentDB not up at start: the process waits, /readyz says so, and it starts once the server answers', async (context) => {
  const storePort = await freePort();
  const httpPort = await freePort();
  const output = start(context, `kurrentdb://127.0.0.1:${storePort}?tls=false`, httpPort);
  const base = `http://127.0.0.1:${httpPort}`;
  let ready: { status: number; body: { checks?: { name: string; reason?: string }[] } } | null = null;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    assert.is(context.child!.exitCode, null, `the process must not exit while it waits:\n${output.text}`);
    const response = await fetch(`${base}/readyz`).catch(() => null);
    if (!response) continue;
    ready = { status: response.status, body: (await response.json()) as never };
    if (/attempt 2/.test(ready.body.checks?.[0]?.reason ?? '')) break;
  }
  assert.is(ready?.status, 503);
  assert.is(ready?.body.checks?.[0]?.name, 'event-store');
  assert.match(ready?.body.checks?.[0]?.reason ?? '', /waiting for KurrentDB at kurrentdb:\/\/127\.0\.0\.1/);
  assert.is((await fetch(`${base}/healthz`)).status, 200);
  context.double = await startKurrentDbGrpcDouble({ port: storePort });
  await listening(context.child!, output);
  assert.is((await fetch(`${base}/healthz`)).status, 200);
  const eventStoreCheck = async () => {
    const response = await fetch(`${base}/readyz`);
    const body = (await response.json()) as { checks: { name: string; ok: boolean; reason?: string }[] };
    return { status: response.status, check: body.checks.find((check) => check.name === 'event-store') };
  };
  assert.equal((await eventStoreCheck()).check?.ok, true);
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  assert.is(login.status, 200);
  const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
  assert.is((await fetch(`${base}/api/stores`, { headers: auth })).status, 200);

  // KurrentDB goes away while the process runs: not ready, naming it; back: ready again.
  await context.double.stop();
  const down = await eventStoreCheck();
  assert.is(down.status, 503);
  assert.is(down.check?.ok, false);
  assert.match(down.check?.reason ?? '', /event store is not reachable/);
  // Meanwhile a command is a 503 to retry, not a 500; reads of the read model keep answering
  // (the last known credentials, as during a PostgreSQL outage).
  const command = await fetch(`${base}/api/stores`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'During the outage' }) });
  const problem = (await command.json()) as { type: string };
  assert.is(command.status, 503, JSON.stringify(problem));
  assert.ok(command.headers.get('retry-after'), 'with Retry-After');
  assert.match(problem.type, /unavailable/);
  const read = await fetch(`${base}/api/stores`, { headers: auth });
  assert.is(read.status, 200, await read.text());
  context.double = await startKurrentDbGrpcDouble({ port: storePort });
  let back = await eventStoreCheck();
  for (const deadline = Date.now() + 20_000; back.check?.ok !== true && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    back = await eventStoreCheck();
  }
  assert.is(back.check?.ok, true, 'the process is ready again once KurrentDB is back');
  assert.is(context.child!.exitCode, null);
});

test.run();
