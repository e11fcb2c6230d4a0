import type { LightMyRequestResponse } from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Forwarder } from '../../../src/projections/forwarder.js';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { startPostgresProjector } from '../../../src/projections/postgres/run.js';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';
import { assertProblem, createUser, unique } from '../../support/http-assertions.js';
import { testBus } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';
import { type DashboardFigures, foldDashboard } from './dashboard-fold.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

interface Report extends DashboardFigures {
  items: number;
  unitsInStock: number;
  lowStockItems: number;
  outOfStockItems: number;
  readPosition: string;
  generatedAt: string;
}

interface Context {
  harness: Harness;
  manager: Client;
  auditor: Client;
  stopProjections: () => Promise<void>;
  /** The global position of the last change written. */
  last: bigint;
}

const test = suite<Context>('read API: the inventory dashboard, from read models the projector keeps');

/** Every command's answer carries the position it wrote; the script remembers the last one. */
async function write(context: Context, response: Promise<LightMyRequestResponse>): Promise<{ id: string }> {
  const answer = await response;
  assert.ok(answer.statusCode === 200 || answer.statusCode === 201, answer.body);
  const body = answer.json<{ id?: string; position: string }>();
  if (BigInt(body.position) > context.last) context.last = BigInt(body.position);
  return { id: body.id ?? '' };
}

/** The report once the read model has applied everything the script wrote. */
async function report(context: Context, client: Client = context.manager): Promise<Report> {
  for (let attempt = 0; ; attempt += 1) {
    const response = await client.get('/api/reports/inventory', { 'x-min-position': context.last.toString() });
    if (response.statusCode === 503 && attempt < 20) continue;
    assert.is(response.statusCode, 200, response.body);
    return response.json<Report>();
  }
}

const allEvents = async (harness: Harness): Promise<RecordedEvent[]> => harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });

/** The figures a test-side fold of every event gives, as of the report's own clock. */
async function expected(harness: Harness, at: Report): Promise<DashboardFigures> {
  return foldDashboard(await allEvents(harness), new Date(at.generatedAt));
}

const figuresOf = (r: Report): DashboardFigures => ({ stockValue: r.stockValue, perStore: r.perStore, movements: r.movements, topMovers: r.topMovers });

/**
 * Forwarder and PostgreSQL projector through the real broker, as startHarness's
 * `projections` runs them, but in a consumer group of this file's own: joining the shared
 * default group waits for every other test process on the broker to rebalance.
 */
async function startProjections(harness: Harness): Promise<() => Promise<void>> {
  await ensureReadModelSchema(harness.db.url);
  const bus = testBus('dashboard');
  await bus.ensureTopic();
  const projector = await startPostgresProjector({ bus, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, log: quietLog, group: unique('stockroom-test-dashboard-') });
  const forwarder = new Forwarder({ store: harness.eventStore, bus, pool: harness.db.pool, databaseUrl: harness.db.url, log: quietLog, retryMs: 200 });
  forwarder.start();
  return async () => {
    await forwarder.stop();
    await projector.stop();
    await bus.close();
  };
}

test.before(async (context) => {
  context.harness = await startHarness('dashboard');
  context.stopProjections = await startProjections(context.harness);
  context.last = 0n;
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const auditor = unique('auditor');
  await createUser(context.manager, { username: auditor, password: 'auditor-password-1', role: 'auditor' });
  context.auditor = await login(context.harness, auditor, 'auditor-password-1');
});
test.after(async ({ harness, stopProjections }) => {
  await stopProjections();
  await harness.close();
});

test('a scripted day of changes: every figure equals a fold of the same events', async (context) => {
  const { manager } = context;
  const store = async (name: string) => (await write(context, manager.post('/api/stores', { name }))).id;
  const sku = async (name: string, price: string | null) =>
    (await write(context, manager.post('/api/skus', { code: unique('K'), name, lowStockThreshold: 3, ...(price === null ? {} : { price }) }))).id;
  const harbour = await store('Harbour');
  const market = await store('market');
  const uptown = await store('Uptown'); // holds nothing: a row of zeros
  const tea = await sku('Green tea', '4.50');
  const rope = await sku('Rope', '2.125');
  const salt = await sku('Salt', null);
  const jam = await sku('Jam', '12.99');

  const item = (storeId: string, skuId: string) => `/api/inventory/stores/${storeId}/items/${skuId}`;
  const add = (storeId: string, skuId: string, quantity: number, lowStockThreshold = 3) =>
    write(context, manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity, lowStockThreshold }));
  const adjust = (storeId: string, skuId: string, delta: number, reason: string) => write(context, manager.patch(item(storeId, skuId), { delta, reason }));
  const count = (storeId: string, skuId: string, countedQuantity: number) => write(context, manager.patch(item(storeId, skuId), { countedQuantity }));

  await add(harbour, tea, 20);
  await add(harbour, rope, 10);
  await add(harbour, salt, 5);
  await add(market, tea, 8);
  await add(market, jam, 3, 4);
  await add(market, rope, 0);
  await adjust(harbour, tea, 12, 'received');
  await adjust(harbour, tea, -7, 'sold');
  await adjust(harbour, tea, -3, 'sold');
  await adjust(harbour, tea, -1, 'damaged');
  await adjust(harbour, tea, 2, 'returned');
  await adjust(market, tea, -8, 'sold');
  await adjust(harbour, salt, 1, 'correction');
  await adjust(harbour, salt, -2, 'correction');
  await adjust(market, rope, 4, 'received');
  await adjust(market, rope, -4, 'sold');
  await count(harbour, rope, 6);
  await count(market, jam, 5);
  await count(market, jam, 5); // a count that matches moves nothing
  await write(context, manager.patch(item(harbour, rope), { lowStockThreshold: 7 }));
  await write(context, manager.patch(`/api/skus/${tea}`, { price: '5.00' }));
  await write(context, manager.delete(item(harbour, salt)));
  await write(context, manager.patch(`/api/stores/${market}`, { name: 'Market hall' }));

  const answer = await report(context);
  const wanted = await expected(context.harness, answer);
  assert.equal(figuresOf(answer), wanted);

  // And by hand, for the figures a reader checks first.
  const harbourRow = answer.perStore.find((row) => row.storeId === harbour)!;
  assert.equal(harbourRow, { storeId: harbour, name: 'Harbour', items: 2, units: 29, stockValue: '127.75', lowStockItems: 1, outOfStockItems: 0 });
  assert.equal(answer.perStore.find((row) => row.storeId === uptown), { storeId: uptown, name: 'Uptown', items: 0, units: 0, stockValue: '0.00', lowStockItems: 0, outOfStockItems: 0 });
  assert.equal(answer.perStore.map((row) => row.name), ['Harbour', 'Market hall', 'Uptown']);
  assert.is(answer.stockValue, '192.70', 'tea 23 × 5.00 + rope 6 × 2.125 + jam 5 × 12.99; salt has no price');
  assert.is(answer.items, 5);
  assert.is(answer.unitsInStock, 34);
  assert.is(answer.outOfStockItems, 2, 'tea and rope at the market');
  const today = answer.movements.at(-1)!;
  assert.is(answer.movements.length, 30);
  assert.is(today.day, answer.generatedAt.slice(0, 10));
  assert.equal(today.byReason['sold'], { unitsIn: 0, unitsOut: 22 });
  assert.equal(today.byReason['count'], { unitsIn: 2, unitsOut: 4 });
  assert.equal(today.byReason['removed'], { unitsIn: 0, unitsOut: 4 });
  assert.equal(today.byReason['added'], { unitsIn: 46, unitsOut: 0 });
  assert.is(today.unitsIn - today.unitsOut, answer.unitsInStock, 'everything moved today: in minus out is the stock');
  assert.equal(answer.topMovers.last24h[0], { skuId: tea, code: answer.topMovers.last24h[0]!.code, name: 'Green tea', unitsOut: 19, unitsIn: 42 });
  assert.equal(answer.topMovers.last24h, answer.topMovers.last7d);

  assert.equal(figuresOf(await report(context, context.auditor)), figuresOf(answer), 'auditors read it too');
});

test('a batch delivered again, or twice at once, counts nothing twice', async (context) => {
  const before = await report(context);
  const events = await allEvents(context.harness);
  const projector = new PostgresProjector({ pool: context.harness.db.pool, store: context.harness.eventStore, projections: readModelProjections });
  await projector.applyBatch({ events, partition: 0, through: 0n });
  await projector.applyBatch({ events: events.slice(-10), partition: 1, through: 0n });
  // Two replicas applying the same events together (a rebalance): the stream locks serialize them.
  await Promise.all([projector.applyBatch({ events, partition: 0, through: 0n }), projector.applyBatch({ events, partition: 2, through: 0n })]);
  const after = await report(context);
  assert.equal(figuresOf(after), figuresOf(before));
  assert.equal(figuresOf(after), await expected(context.harness, after));
});

test('a rebuild gives the same dashboard', async (context) => {
  const before = await report(context);
  await rebuildReadModel({ databaseUrl: context.harness.db.url, pool: context.harness.db.pool, store: context.harness.eventStore, projections: readModelProjections, batchSize: 7 });
  const after = await report(context);
  assert.equal(figuresOf(after), figuresOf(before));
  assert.equal({ ...after, generatedAt: '' }, { ...before, generatedAt: '' });
});

test('staff may not read the dashboard', async (context) => {
  const { harness, manager } = context;
  const storeId = (await write(context, manager.post('/api/stores', { name: 'Staffed' }))).id;
  const username = unique('staff');
  await createUser(manager, { username, password: 'staff-password-1', role: 'staff', storeIds: [storeId] });
  const staff = await login(harness, username, 'staff-password-1');
  assertProblem(await staff.get('/api/reports/inventory'), 403, { type: 'forbidden' });
});

test.run();
