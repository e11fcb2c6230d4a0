import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';

/** The whole loop over HTTP: command → event store → forwarder → Kafka → projector → query. */
const test = suite<{ harness: Harness; manager: Client }>('HTTP: read your own writes through Kafka');

test.before(async (context) => {
  context.harness = await startHarness('ryw', {}, { projections: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

test('a command followed by a query with its position sees the change', async ({ harness, manager }) => {
  const { storeId, skuId, itemUrl, staff } = await seedStore(harness, manager, 10);
  const sold = await staff.patch(itemUrl, { delta: -4, reason: 'sold' });
  assert.is(sold.statusCode, 200, sold.body);
  const position = sold.json<{ position: string }>().position;

  const item = await staff.get(itemUrl, { 'x-min-position': position });
  assert.is(item.statusCode, 200, item.body);
  assert.equal(item.json<{ quantity: number; revision: number }>(), { storeId, skuId, quantity: 6, lowStockThreshold: 3, revision: 1 });

  const list = await staff.get(`/api/inventory/stores/${storeId}`, { 'x-min-position': position });
  assert.is(list.statusCode, 200, list.body);
  const rows = list.json<{ items: { skuId: string; quantity: number }[] }>().items;
  assert.equal(rows.map((row) => [row.skuId, row.quantity]), [[skuId, 6]]);

  const overall = await manager.get(`/api/inventory?q=`, { 'x-min-position': position });
  assert.is(overall.statusCode, 200, overall.body);
  const summary = overall.json<{ items: { skuId: string; totalQuantity: number }[] }>().items.find((row) => row.skuId === skuId);
  assert.is(summary?.totalQuantity, 6);
});

test('each projector shows its checkpoint and lag in events and seconds', async ({ harness, manager }) => {
  const head = (await harness.eventStore.headPosition()).toString();
  await manager.get('/api/stores', { 'x-min-position': head });
  const report = await manager.get('/api/reports/cluster');
  assert.is(report.statusCode, 200, report.body);
  const body = report.json<{ forwarder: { leaderHere: boolean; checkpoint: string }; projections: { name: string; lag: { checkpoint: string; head: string; events: number; seconds: number } }[] }>();
  assert.is(body.forwarder.leaderHere, null, 'this app runs no forwarder of its own');
  const postgres = body.projections.find((p) => p.name === 'postgres');
  assert.ok(postgres);
  assert.is(postgres!.lag.events, 0);
  assert.is(postgres!.lag.head, head);
  const metrics = await harness.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /stockroom_lag_events\{subscriber="projector-postgres"\} 0/);
  assert.match(metrics.body, /stockroom_lag_seconds\{subscriber="forwarder"\} 0/);
  const staffReport = await (await seedStore(harness, manager)).staff.get('/api/reports/cluster');
  assert.is(staffReport.statusCode, 403);
});

test('a position the read model cannot reach in time is a 503 with Retry-After', async ({ manager }) => {
  const response = await manager.get('/api/stores', { 'x-min-position': '999999999' });
  assert.is(response.statusCode, 503);
  assert.ok(response.headers['retry-after']);
  assert.is(response.headers['content-type'], 'application/problem+json; charset=utf-8');
});

test.run();
