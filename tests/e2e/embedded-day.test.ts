import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonCaller } from '../support/json-call.js';
import { TestSocket } from '../support/ws-client.js';

/**
 * `npm start` with nothing configured, through a scripted day of a shop: the websocket
 * follows every change, the low-stock email lands as an .eml file in DATA_DIR/mail, and
 * both dashboards answer with the figures the day made. One setting only: the digest
 * window at 1 s instead of 60, so that the test does not wait a minute for the mail.
 */
const test = suite<{ dataDir: string; child: ChildProcess | null }>('e2e: a day on the embedded default');

test.before(async (context) => {
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-day-'));
  context.child = null;
});
test.after(async ({ dataDir, child }) => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

test('live frames, an .eml file and both dashboards after a day of changes', async (context) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: context.dataDir, PORT: '0', LOG_LEVEL: 'warn', LOW_STOCK_DIGEST_SECONDS: '1' };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'ADMIN_PASSWORD', 'JWT_SECRET', 'NODE_ENV', 'SMTP_URL', 'ROLES']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  context.child = child;
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk) => (output += chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!/listening on (http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not listen within 90 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const base = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  const password = /Password:\s+(\S+)/.exec(output)![1]!;

  let token = '';
  const call = jsonCaller(base, () => token);
  token = String((await call('POST', '/api/auth/login', { username: 'admin', password })).token);
  await call('PATCH', '/api/auth/me', { email: 'manager@example.com' });

  const harbour = await call('POST', '/api/stores', { name: 'Harbour' });
  const market = await call('POST', '/api/stores', { name: 'Market' });
  const tea = await call('POST', '/api/skus', { code: 'TEA-01', name: 'Green tea', price: '4.50', lowStockThreshold: 5 });
  const cups = await call('POST', '/api/skus', { code: 'CUP-01', name: 'Cup', price: '2.25', lowStockThreshold: 2 });
  const item = (store: string, sku: string) => `/api/inventory/stores/${store}/items/${sku}`;

  const socket = await TestSocket.open(`${base.replace('http', 'ws')}/ws`, token);
  socket.send({ type: 'subscribe', storeIds: [harbour.id], since: '0' });

  await call('POST', `/api/inventory/stores/${harbour.id}/items`, { skuId: tea.id, quantity: 12 });
  await call('POST', `/api/inventory/stores/${harbour.id}/items`, { skuId: cups.id, quantity: 10 });
  await call('POST', `/api/inventory/stores/${market.id}/items`, { skuId: tea.id, quantity: 20 });
  await call('PATCH', item(harbour.id, tea.id), { delta: -6, reason: 'sold' }); // 6, not low
  await call('PATCH', item(harbour.id, tea.id), { delta: -2, reason: 'sold' }); // 4: crosses into low
  await call('PATCH', item(harbour.id, cups.id), { delta: 5, reason: 'received' }); // 15
  await call('PATCH', item(harbour.id, cups.id), { delta: -1, reason: 'damaged' }); // 14
  await call('PATCH', item(market.id, tea.id), { countedQuantity: 18 }); // count: -2
  const last = await call('PATCH', item(market.id, tea.id), { delta: -3, reason: 'sold' }); // 15

  // The websocket: every change of Harbour, in order, with its level.
  await socket.until(() => socket.of('stock').length === 6, 15_000, 'six changes of Harbour');
  assert.equal(
    socket.of('stock').map((frame) => [frame.skuId, frame.event, frame.quantity, frame.reason]),
    [
      [tea.id, 'StockItemAdded', 12, null],
      [cups.id, 'StockItemAdded', 10, null],
      [tea.id, 'StockAdjusted', 6, 'sold'],
      [tea.id, 'StockAdjusted', 4, 'sold'],
      [cups.id, 'StockAdjusted', 15, 'received'],
      [cups.id, 'StockAdjusted', 14, 'damaged'],
    ],
  );

  // The inventory dashboard, once the read model has the last change.
  const report = await call('GET', '/api/reports/inventory', undefined, { 'x-min-position': last.position });
  // 4 × 4.50 + 14 × 2.25 + 15 × 4.50 = 18 + 31.5 + 67.5
  assert.is(report.stockValue, '117.00');
  assert.equal(
    (report.perStore as Record<string, unknown>[]).map((row) => [row.name, row.items, row.units, row.stockValue, row.lowStockItems]),
    [
      ['Harbour', 2, 18, '49.50', 1],
      ['Market', 1, 15, '67.50', 0],
    ],
  );
  const today = (report.movements as { unitsIn: number; unitsOut: number; byReason: Record<string, { unitsIn: number; unitsOut: number }> }[]).at(-1)!;
  assert.is(today.byReason.sold!.unitsOut, 11);
  assert.is(today.byReason.received!.unitsIn, 5);
  assert.is(today.byReason.damaged!.unitsOut, 1);
  assert.is(today.byReason.count!.unitsOut, 2);
  const movers = (report.topMovers as { last24h: { code: string; unitsOut: number }[] }).last24h;
  assert.equal(movers.map((row) => [row.code, row.unitsOut]), [['TEA-01', 13], ['CUP-01', 1]]);

  // The cluster dashboard: this one process, with its websocket, and the mail queue.
  // Figures come from the heartbeats, each a few seconds apart: wait for the one after the socket opened.
  type Processes = { roles: string[]; websockets: number; gone: boolean }[];
  let cluster = await call('GET', '/api/reports/cluster');
  for (const until = Date.now() + 15_000; (cluster.processes as Processes)[0]?.websockets !== 1 && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    cluster = await call('GET', '/api/reports/cluster');
  }
  const processes = cluster.processes as Processes;
  assert.is(processes.length, 1);
  assert.is(processes[0]!.gone, false);
  assert.is(processes[0]!.roles.length, 6);
  assert.is(processes[0]!.websockets, 1);
  assert.ok(cluster.mail, 'the mail queue is shown');

  // The email: one .eml file for the one crossing.
  const mailDir = path.join(context.dataDir, 'mail');
  const mailDeadline = Date.now() + 20_000;
  let files: string[] = [];
  while (files.length === 0) {
    assert.ok(Date.now() < mailDeadline, 'no .eml file within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
    files = (await readdir(mailDir).catch(() => [] as string[])).filter((name) => name.endsWith('.eml'));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // a second file would be a repeat
  files = (await readdir(mailDir)).filter((name) => name.endsWith('.eml'));
  assert.is(files.length, 1, `one email: ${files.join(', ')}`);
  const mail = await simpleParser(await readFile(path.join(mailDir, files[0]!)));
  assert.match(mail.subject ?? '', /Harbour/);
  assert.match(mail.text ?? '', /TEA-01/);
  // PUBLIC_URL defaults to http://HOST:PORT as configured (here port 0, so the link names :0).
  assert.match(mail.text ?? '', new RegExp(`http://127\\.0\\.0\\.1:\\d+/api/inventory/stores/${harbour.id}/items/${tea.id}`));
  assert.match(JSON.stringify(mail.to), /manager@example\.com/);
  socket.close();
});

test.run();
