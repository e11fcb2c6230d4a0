import pg from 'pg';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { serverUrl } from '../../support/database.js';

/**
 * A hole in the positions beside long transactions, through the real forwarder, Kafka and
 * projector: only a transaction that appends is waited on (docs/decisions.md, "Ordering").
 */
const test = suite<{ harness: Harness; manager: Client }>('Projections: a hole waits only on appends');

test.before(async (context) => {
  context.harness = await startHarness('gapwait', {}, { projections: true, forwarderInApp: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

/** A session that opens a transaction, takes a transaction id and holds it; `end` cancels it. */
async function holdTransaction(url: string, statements: string[]): Promise<{ end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  await client.query('begin');
  for (const statement of statements) await client.query(statement);
  const sleeping = client.query('select pg_sleep(60)').catch(() => {});
  return {
    async end() {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query('select pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID]);
      await admin.end();
      await sleeping;
      await client.query('rollback').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/** Reads with X-Min-Position again after each 503 (2 s each) until `withinMs`: a bound on a wait, not a timing. */
async function readWithin(client: Client, url: string, position: string, withinMs: number) {
  const deadline = Date.now() + withinMs;
  let response = await client.get(url, { 'x-min-position': position });
  while (response.statusCode === 503 && Date.now() < deadline) response = await client.get(url, { 'x-min-position': position });
  return response;
}

const makeHole = (harness: Harness) =>
  harness.db.pool.query(sql.unsafe`select nextval(pg_get_serial_sequence('es_events', 'position'))`);

test('a long transaction in another database beside a hole does not hold the projections', async ({ harness, manager }) => {
  const { itemUrl, staff } = await seedStore(harness, manager, 10);
  await makeHole(harness);
  const elsewhere = await holdTransaction(serverUrl, ['select txid_current()']);
  try {
    const sold = await staff.patch(itemUrl, { delta: -1, reason: 'sold' });
    assert.is(sold.statusCode, 200, sold.body);
    // Without the marker this waits for the transaction in `postgres` (60 s) and answers 503.
    const read = await readWithin(staff, itemUrl, sold.json<{ position: string }>().position, 15_000);
    assert.is(read.statusCode, 200, read.body);
    assert.is(read.json<{ quantity: number }>().quantity, 9);
  } finally {
    await elsewhere.end();
  }
});

test('an append held open is waited on, shown in the cluster report and /readyz, and passed once it ends', async ({ harness, manager }) => {
  const { itemUrl, staff } = await seedStore(harness, manager, 10);
  const held = await holdTransaction(harness.db.url, [
    `select * from es_append('held-open', -1, '[{"id":"${crypto.randomUUID()}","type":"Probe","data":{},"metadata":{}}]'::jsonb)`,
  ]);
  try {
    const sold = await staff.patch(itemUrl, { delta: -2, reason: 'sold' });
    assert.is(sold.statusCode, 200, sold.body);
    const position = sold.json<{ position: string }>().position;
    const waiting = await staff.get(itemUrl, { 'x-min-position': position });
    assert.is(waiting.statusCode, 503, 'a position behind an append still in flight is not read past');

    const report = await manager.get('/api/reports/cluster');
    assert.is(report.statusCode, 200, report.body);
    const open = report.json<{ appendsHeldOpen: { pid: number; seconds: number }[] }>().appendsHeldOpen;
    assert.is(open.length, 1);
    assert.ok(open[0]!.seconds >= 1);

    const deadline = Date.now() + 20_000;
    let ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
    while (ready.statusCode === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
    }
    assert.is(ready.statusCode, 503, ready.body);
    const gap = ready.json<{ checks: { name: string; ok: boolean; reason?: string }[] }>().checks.find((check) => check.name === 'forwarder-gap');
    assert.is(gap?.ok, false);
    assert.match(gap?.reason ?? '', /held open/);
    // And /metrics, for an alert on the wait (docs/operations.md).
    const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^stockroom_forwarder_leader 1$/m);
    assert.ok(Number(/^stockroom_forwarder_gap_wait_seconds (\S+)$/m.exec(metrics)?.[1]) >= 10, metrics);
  } finally {
    await held.end();
  }
  const { position } = (await staff.patch(itemUrl, { delta: -1, reason: 'sold' })).json<{ position: string }>();
  const read = await readWithin(staff, itemUrl, position, 15_000);
  assert.is(read.statusCode, 200, read.body);
  assert.is(read.json<{ quantity: number }>().quantity, 7);
  assert.is((await harness.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  assert.match((await harness.app.inject({ method: 'GET', url: '/metrics' })).body, /^stockroom_forwarder_gap_wait_seconds 0$/m);
});

test.run();
