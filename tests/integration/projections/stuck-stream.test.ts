import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runStuckCommand } from '../../../src/projections/stuck-command.js';
import { stockItemStream } from '../../../src/shared/streams.js';
import { event } from '../../contract/event-store.contract.js';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

/** One event the projector cannot read, through the forwarder, Kafka, the projector and HTTP. */
const test = suite<{ harness: Harness; manager: Client }>('Projections: a poison event stops only its stream');

test.before(async (context) => {
  context.harness = await startHarness('stuck', {}, { projections: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

async function readWithin(client: Client, url: string, position: string, withinMs: number) {
  const deadline = Date.now() + withinMs;
  let response = await client.get(url, { 'x-min-position': position });
  while (response.statusCode === 503 && Date.now() < deadline) response = await client.get(url, { 'x-min-position': position });
  return response;
}

test('the rest moves on, the stream is marked stuck and shown, its reads say why, and a retry after a fix applies it', async ({ harness, manager }) => {
  const { storeId, itemUrl, staff } = await seedStore(harness, manager, 10);
  const sku = (await manager.post('/api/skus', { code: `SKU-${randomUUID().slice(0, 8)}`, name: 'Poisoned', lowStockThreshold: 1 })).json<{ id: string }>();
  const poisonStream = stockItemStream(storeId, sku.id);
  // Written around the deciders (as a buggy release or a hand edit might): unreadable data.
  const poison = await harness.eventStore.append(poisonStream, [event('StockItemAdded', { storeId, skuId: sku.id, quantity: 'lots', lowStockThreshold: 1 })], 'no_stream');
  const poisonEvent = (await harness.eventStore.readStream(poisonStream))[0]!;

  // Every partition moves past the poison: a read of another stream at a later position answers.
  const sold = await staff.patch(itemUrl, { delta: -1, reason: 'sold' });
  assert.is(sold.statusCode, 200, sold.body);
  const later = sold.json<{ position: string }>().position;
  assert.ok(BigInt(later) > poison.position);
  const other = await readWithin(staff, itemUrl, later, 15_000);
  assert.is(other.statusCode, 200, other.body);
  assert.is(other.json<{ quantity: number }>().quantity, 9);
  const lists = await manager.get('/api/stores', { 'x-min-position': later });
  assert.is(lists.statusCode, 200, 'queries that read many streams go on');

  const poisonUrl = `/api/inventory/stores/${storeId}/items/${sku.id}`;
  const refused = await manager.get(poisonUrl, { 'x-min-position': later });
  assert.is(refused.statusCode, 503, refused.body);
  assert.ok(refused.headers['retry-after']);
  const problem = refused.json<{ type: string; detail: string; eventId: string; eventPosition: string }>();
  assert.match(problem.type, /stream-stuck/);
  assert.is(problem.eventId, poisonEvent.id);
  assert.is(problem.eventPosition, poison.position.toString());
  assert.match(problem.detail, /quantity/);

  const report = (await manager.get('/api/reports/cluster')).json<{ stuckStreams: { streamId: string; eventId: string; position: string }[] }>();
  assert.equal(report.stuckStreams.map((s) => [s.streamId, s.eventId, s.position]), [[poisonStream, poisonEvent.id, poison.position.toString()]]);
  const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /stockroom_stuck_streams\{projection="postgres"\} 1/);
  assert.ok(metrics.includes(`event_id="${poisonEvent.id}"`), metrics);
  const ready = (await harness.app.inject({ method: 'GET', url: '/readyz' })).json<{ checks: { name: string; reason?: string }[] }>();
  assert.ok(ready.checks.find((check) => check.name === 'stuck-streams')?.reason?.includes(poisonEvent.id));

  const lines: string[] = [];
  const deps = { pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, out: (line: string) => void lines.push(line) };
  assert.is(await runStuckCommand(['list'], deps), 1);
  assert.match(lines.join('\n'), new RegExp(`${poisonStream}\\tevent ${poisonEvent.id}\\tposition ${poison.position}`));
  assert.is(await runStuckCommand(['retry', '--all'], deps), 1, 'nothing fixed yet: still stuck');
  assert.match(lines.at(-1)!, /still stuck/);

  // The fix: here the event is corrected by hand (an upcaster or a code change in real life).
  await harness.db.pool.query(sql.unsafe`update es_events set data = jsonb_set(data, '{quantity}', '4') where event_id = ${poisonEvent.id}`);
  assert.is(await runStuckCommand(['retry', poisonStream], deps), 0);
  assert.match(lines.at(-1)!, /no longer stuck/);
  const fixed = await manager.get(poisonUrl, { 'x-min-position': later });
  assert.is(fixed.statusCode, 200, fixed.body);
  assert.is(fixed.json<{ quantity: number }>().quantity, 4);
  assert.is(await runStuckCommand(['list'], deps), 0);
});

test.run();
