import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, createUser, refused, sleep, stockNewSku, unique } from '../../support/http-assertions.js';

interface Trail {
  type: string;
  data: Record<string, number>;
  stream: string;
  position: string;
  recordedAt: string;
}

interface Context {
  harness: Harness;
  manager: Client;
  auditor: Client;
  storeId: string;
  itemUrl: string;
  /** Moments between the commands: an ISO time each. */
  moments: string[];
  beforeStore: string;
}

const test = suite<Context>('audit: the stock as of a moment');

const moment = async (context: Context) => {
  await sleep(15);
  context.moments.push(new Date().toISOString());
  await sleep(15);
};

test.before(async (context) => {
  const harness = await startHarness('audit-as-of', {}, { projections: true });
  context.harness = harness;
  context.manager = await login(harness, ADMIN.username, ADMIN.password);
  const name = unique('audrey');
  await createUser(context.manager, { username: name, password: 'auditor-password-1', role: 'auditor' });
  context.auditor = await login(harness, name, 'auditor-password-1');
  context.moments = [];
  await sleep(15);
  context.beforeStore = new Date().toISOString();
  await sleep(15);
  const { storeId, itemUrl, staff } = await seedStore(harness, context.manager, 10);
  Object.assign(context, { storeId, itemUrl });
  await moment(context);
  assertWritten(await staff.patch(itemUrl, { delta: -3, reason: 'sold' }));
  await moment(context);
  const second = await stockNewSku(context.manager, storeId, 4);
  assertWritten(await context.manager.patch(itemUrl, { delta: 6, reason: 'received' }));
  await moment(context);
  assertWritten(await staff.patch(itemUrl, { countedQuantity: 11 }));
  assertWritten(await context.manager.patch(second.itemUrl, { lowStockThreshold: 2 }));
  await moment(context);
  assertWritten(await context.manager.delete(second.itemUrl));
  await moment(context);
});
test.after(async ({ harness }) => harness.close());

/** The trail of the store, folded by hand (deltas, not the levels the events carry) up to a time. */
async function foldTo(context: Context, at: string): Promise<{ levels: Map<string, number>; position: string }> {
  const response = await context.auditor.get(`/api/audit/events?storeId=${context.storeId}&limit=1000`);
  assert.is(response.statusCode, 200, response.body);
  const events = response.json<{ items: Trail[] }>().items.filter((event) => event.recordedAt <= at);
  const levels = new Map<string, number>();
  for (const event of events) {
    const sku = event.stream.split('_')[1]!;
    if (event.type === 'StockItemAdded') levels.set(sku, event.data.quantity!);
    if (event.type === 'StockAdjusted' || event.type === 'StockCounted') levels.set(sku, levels.get(sku)! + event.data.delta!);
    if (event.type === 'StockItemRemoved') levels.delete(sku);
  }
  return { levels, position: events.at(-1)?.position ?? '0' };
}

test('the quantity as of each moment equals a fold of the events up to then, for one item and for the store', async (context) => {
  const { auditor, storeId, itemUrl, moments } = context;
  const skuId = itemUrl.split('/').at(-1)!;
  for (const at of moments) {
    const expected = await foldTo(context, at);
    const store = await auditor.get(`/api/inventory/stores/${storeId}?asOf=${encodeURIComponent(at)}`);
    assert.is(store.statusCode, 200, store.body);
    const body = store.json<{ items: { skuId: string; quantity: number }[]; position: string }>();
    assert.equal(new Map(body.items.map((item) => [item.skuId, item.quantity])), expected.levels, `store as of ${at}`);
    assert.ok(BigInt(body.position) >= BigInt(expected.position), 'the position reflects every event up to then');

    const item = await auditor.get(`${itemUrl}?asOf=${encodeURIComponent(at)}`);
    assert.is(item.statusCode, 200, item.body);
    assert.is(item.json<{ quantity: number }>().quantity, expected.levels.get(skuId), `item as of ${at}`);

    // The same moment given as its position answers the same.
    const byPosition = await auditor.get(`/api/inventory/stores/${storeId}?asOf=${body.position}`);
    assert.equal(byPosition.json(), body);
  }
  // The last moment is now: asOf agrees with the live answer.
  const live = (await auditor.get(`/api/inventory/stores/${storeId}`)).json<{ items: { skuId: string; quantity: number }[] }>();
  const last = (await auditor.get(`/api/inventory/stores/${storeId}?asOf=${encodeURIComponent(moments.at(-1)!)}`)).json<{ items: { skuId: string; quantity: number }[] }>();
  assert.equal(last.items.map((i) => [i.skuId, i.quantity]), live.items.map((i) => [i.skuId, i.quantity]));
});

test('before the store existed: an empty store, not an error', async ({ auditor, storeId, beforeStore }) => {
  const response = await auditor.get(`/api/inventory/stores/${storeId}?asOf=${encodeURIComponent(beforeStore)}`);
  assert.is(response.statusCode, 200, response.body);
  assert.equal(response.json<{ items: unknown[] }>().items, []);
});

test('a future time, a malformed one, a position beyond the head, and asOf with a list option are 400 naming it', async ({ harness, auditor, storeId, itemUrl }) => {
  const future = new Date(Date.now() + 3_600_000).toISOString();
  await refused(harness, () => auditor.get(`/api/inventory/stores/${storeId}?asOf=${future}`), 400, { type: 'validation', fields: ['query.asOf'], reason: /future/ });
  await refused(harness, () => auditor.get(`${itemUrl}?asOf=${future}`), 400, { type: 'validation', fields: ['query.asOf'] });
  await refused(harness, () => auditor.get(`/api/inventory/stores/${storeId}?asOf=last-tuesday`), 400, { type: 'validation', fields: ['query.asOf'] });
  await refused(harness, () => auditor.get(`/api/inventory/stores/${storeId}?asOf=999999999`), 400, { type: 'validation', fields: ['query.asOf'], reason: /beyond/ });
  await refused(harness, () => auditor.get(`/api/inventory/stores/${storeId}?asOf=1&sort=-quantity`), 400, { type: 'validation', fields: ['query.sort'] });
});

test.run();
