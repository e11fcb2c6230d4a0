import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';

interface Context {
  harness: Harness;
  manager: Client;
}

const test = suite<Context>('ops: /metrics shows the process, the API latency and the cluster status');

test.before(async (context) => {
  context.harness = await startHarness('metrics');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

const scrape = async (harness: Harness) => (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;

/** The count of a histogram's series with these labels (0 when it has none yet). */
const countOf = (metrics: string, name: string, labels: string): number => {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${name}_count{`) && candidate.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

test('the process metrics of prom-client, and the names that were there before', async ({ harness }) => {
  const metrics = await scrape(harness);
  for (const name of ['process_resident_memory_bytes', 'process_uptime_seconds', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.match(metrics, new RegExp(`^${name}(\\{[^}]*\\})? \\d`, 'm'), name);
  }
  for (const name of ['stockroom_event_store_head_position', 'stockroom_checkpoint_position', 'stockroom_lag_events', 'stockroom_lag_seconds', 'stockroom_stuck_streams']) {
    assert.match(metrics, new RegExp(`^# TYPE ${name} gauge$`, 'm'), name);
  }
  assert.match(metrics, /^stockroom_lag_events\{subscriber="forwarder"\} \d+$/m);
  assert.match(metrics, /^stockroom_stuck_streams\{projection="postgres"\} 0$/m);
});

test('commands and queries are timed by route template, method and status', async ({ harness, manager }) => {
  const before = await scrape(harness);
  const { itemUrl } = await seedStore(harness, manager);
  const changed = await manager.patch(itemUrl, { delta: 1, reason: 'received' });
  assert.is(changed.statusCode, 200);
  const read = await manager.get('/api/auth/me');
  assert.is(read.statusCode, 200, read.body);
  const missing = await manager.get('/api/no-such-route');
  assert.is(missing.statusCode, 404);
  const after = await scrape(harness);

  const patched = 'method="PATCH",route="/api/inventory/stores/:storeId/items/:skuId",status_code="200"';
  assert.is(countOf(after, 'stockroom_command_duration_seconds', patched) - countOf(before, 'stockroom_command_duration_seconds', patched), 1);
  const listed = 'method="GET",route="/api/auth/me",status_code="200"';
  assert.is(countOf(after, 'stockroom_query_duration_seconds', listed) - countOf(before, 'stockroom_query_duration_seconds', listed), 1);
  assert.not.match(after, /route="\/api\/inventory\/stores\/[0-9a-f-]{36}/, 'never a raw path: a series per id');
  assert.not.match(after, /no-such-route/, 'an unmatched path makes no series');
  assert.not.match(after, /stockroom_query_duration_seconds_count\{[^}]*route="\/metrics"/, '/metrics is not an API query');
});

test.run();
