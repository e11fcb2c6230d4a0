import { randomUUID } from 'node:crypto';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, createUser, fullHistory, type HistoryEntry, refused, stockNewSku, unique, type WrittenBody } from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
  staff: Client;
  staffId: string;
  auditor: Client;
  outsider: Client;
  storeId: string;
  skuId: string;
  itemUrl: string;
  /** The answers of the commands that built the item's history, in order. */
  written: { by: string; body: WrittenBody }[];
  startedAt: number;
}

const test = suite<Context>('HTTP: the history of a stock item');

test.before(async (context) => {
  context.startedAt = Date.now();
  const harness = await startHarness('history');
  context.harness = harness;
  context.manager = await login(harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
  const seeded = await seedStore(harness, context.manager, 10);
  Object.assign(context, { staff: seeded.staff, staffId: seeded.staffId, storeId: seeded.storeId, skuId: seeded.skuId, itemUrl: seeded.itemUrl });

  const auditorName = unique('audrey');
  await createUser(context.manager, { username: auditorName, password: 'auditor-password-1', role: 'auditor' });
  context.auditor = await login(harness, auditorName, 'auditor-password-1');

  const elsewhere = await context.manager.post('/api/stores', { name: 'Elsewhere' });
  const outsiderName = unique('otto');
  await createUser(context.manager, {
    username: outsiderName,
    password: 'outsider-password-1',
    role: 'staff',
    storeIds: [elsewhere.json<{ id: string }>().id],
  });
  context.outsider = await login(harness, outsiderName, 'outsider-password-1');

  // The item was added by the manager in seedStore (revision 0); then:
  const { manager, staff, itemUrl, managerId, staffId } = context;
  context.written = [];
  const record = async (by: string, response: Parameters<typeof assertWritten>[0]) => context.written.push({ by, body: assertWritten(response) });
  await record(staffId, await staff.patch(itemUrl, { delta: -2, reason: 'sold', note: 'till 1' }));
  await record(managerId, await manager.patch(itemUrl, { delta: 5, reason: 'received' }));
  await record(staffId, await staff.patch(itemUrl, { countedQuantity: 12, note: 'shelf count' }));
  await record(managerId, await manager.patch(itemUrl, { lowStockThreshold: 4 }));
  await record(staffId, await staff.patch(itemUrl, { delta: -1, reason: 'damaged', note: 'dropped' }));
  await record(managerId, await manager.patch(itemUrl, { delta: 1, reason: 'correction', note: null }));
  await record(staffId, await staff.patch(itemUrl, { delta: 1, reason: 'returned' }));
});
test.after(async ({ harness }) => harness.close());

const page = async (client: Client, url: string) => {
  const response = await client.get(url);
  assert.is(response.statusCode, 200, response.body);
  return response.json<{ items: HistoryEntry[]; next: string | null }>();
};

test('an auditor reads every event with type, data, actor, time, revision, position, reason and note', async (context) => {
  const { auditor, itemUrl, storeId, skuId, managerId, staffId, written, startedAt } = context;
  const { items, next } = await page(auditor, `${itemUrl}/history`);
  assert.is(next, null, 'all on one page');
  assert.equal(items.map((entry) => entry.type), [
    'StockItemAdded',
    'StockAdjusted',
    'StockAdjusted',
    'StockCounted',
    'LowStockThresholdChanged',
    'StockAdjusted',
    'StockAdjusted',
    'StockAdjusted',
  ]);
  assert.equal(items.map((entry) => entry.revision), [0, 1, 2, 3, 4, 5, 6, 7]);

  assert.equal(items[0]!.data, { storeId, skuId, quantity: 10, lowStockThreshold: 3 });
  assert.equal(items[1]!.data, { delta: -2, reason: 'sold', note: 'till 1', reference: null, quantityAfter: 8 });
  assert.equal(items[2]!.data, { delta: 5, reason: 'received', note: null, reference: null, quantityAfter: 13 });
  assert.equal(items[3]!.data, { countedQuantity: 12, previousQuantity: 13, delta: -1, note: 'shelf count' });
  assert.equal(items[4]!.data, { lowStockThreshold: 4, previous: 3 });
  assert.equal(items[5]!.data, { delta: -1, reason: 'damaged', note: 'dropped', reference: null, quantityAfter: 11 });
  assert.equal(items[6]!.data, { delta: 1, reason: 'correction', note: null, reference: null, quantityAfter: 12 });
  assert.equal(items[7]!.data, { delta: 1, reason: 'returned', note: null, reference: null, quantityAfter: 13 });

  // Who: the manager added the item (seedStore), the rest alternate as recorded.
  assert.equal(
    items.map((entry) => entry.actor),
    [managerId, ...written.map((w) => w.by)],
  );
  assert.ok(items.some((entry) => entry.actor === staffId));

  // The reason where there is one, and only there.
  assert.equal(items.map((entry) => entry.reason), [undefined, 'sold', 'received', undefined, undefined, 'damaged', 'correction', 'returned']);
  assert.equal(items.map((entry) => entry.note), [undefined, 'till 1', null, 'shelf count', undefined, 'dropped', null, null]);

  // When: ISO 8601 UTC, in order, within this test run.
  let previous = startedAt - 1000;
  for (const entry of items) {
    assert.match(entry.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const at = Date.parse(entry.at);
    assert.ok(at >= previous && at <= Date.now(), `${entry.at} in order`);
    previous = at;
  }

  // Where: the global position as a decimal string, the same one each command answered.
  for (const entry of items) assert.match(entry.position, /^\d+$/);
  for (let index = 1; index < items.length; index += 1) {
    assert.ok(BigInt(items[index]!.position) > BigInt(items[index - 1]!.position));
  }
  assert.equal(
    items.slice(1).map((entry) => [entry.revision, entry.position]),
    written.map((w) => [w.body.revision, w.body.position]),
    'history and command answers agree on revision and position',
  );
});

test('managers and the item’s own staff read it too', async ({ manager, staff, itemUrl }) => {
  assert.is((await page(manager, `${itemUrl}/history`)).items.length, 8);
  assert.is((await page(staff, `${itemUrl}/history`)).items.length, 8);
});

test('staff of another store get 403', async ({ harness, outsider, itemUrl }) => {
  await refused(harness, () => outsider.get(`${itemUrl}/history`), 403, { type: 'forbidden' });
  await refused(harness, () => outsider.get(`${itemUrl}/history?limit=2`), 403, { type: 'forbidden' });
});

test('an unknown item is 404', async ({ harness, auditor, manager, storeId, skuId }) => {
  await refused(harness, () => auditor.get(`/api/inventory/stores/${storeId}/items/${randomUUID()}/history`), 404, { type: 'not-found' });
  await refused(harness, () => auditor.get(`/api/inventory/stores/${randomUUID()}/items/${skuId}/history`), 404, { type: 'not-found' });
  await refused(harness, () => manager.get(`/api/inventory/stores/${randomUUID()}/items/${randomUUID()}/history?limit=2`), 404, {
    type: 'not-found',
  });
});

test('paging with limit=2 follows next to the end: every event once, in revision order', async ({ auditor, itemUrl }) => {
  const everything = (await page(auditor, `${itemUrl}/history`)).items;
  const seen: HistoryEntry[] = [];
  let url = `${itemUrl}/history?limit=2`;
  let pages = 0;
  for (;;) {
    const { items, next } = await page(auditor, url);
    pages += 1;
    assert.ok(items.length >= 1 && items.length <= 2, `page ${pages} holds ${items.length}`);
    seen.push(...items);
    if (next === null) break;
    assert.match(next, /^\d+$/);
    url = `${itemUrl}/history?limit=2&cursor=${next}`;
    assert.ok(pages < 20, 'paging ends');
  }
  assert.is(pages, Math.ceil(everything.length / 2));
  assert.equal(seen.map((entry) => entry.revision), everything.map((_, index) => index), 'each revision once, in order');
  assert.equal(seen, everything, 'the pages hold the same entries as one read');
});

test('paging an odd number of events ends on a short page, and the last full page says so', async ({ auditor, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 5);
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));
  // 3 events: pages of 2 and 1.
  const first = await page(auditor, `${itemUrl}/history?limit=2`);
  assert.equal(first.items.map((entry) => entry.revision), [0, 1]);
  assert.is.not(first.next, null);
  const second = await page(auditor, `${itemUrl}/history?limit=2&cursor=${first.next!}`);
  assert.equal(second.items.map((entry) => entry.revision), [2]);
  assert.is(second.next, null);
  // 4 events: exactly two full pages, and no empty third one.
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));
  const full = await page(auditor, `${itemUrl}/history?limit=2&cursor=${first.next!}`);
  assert.equal(full.items.map((entry) => entry.revision), [2, 3]);
  assert.is(full.next, null);
  const one = await page(auditor, `${itemUrl}/history?limit=1`);
  assert.is(one.items.length, 1);
  assert.is(one.next, '1');
});

test('the history outlives the item: a removed item still shows every event', async ({ auditor, manager, managerId, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 4);
  const removed = assertWritten(await manager.delete(itemUrl));
  const { items } = await page(auditor, `${itemUrl}/history`);
  assert.equal(items.map((entry) => entry.type), ['StockItemAdded', 'StockItemRemoved']);
  assert.equal(items[1]!.data, { quantityAtRemoval: 4 });
  assert.is(items[1]!.position, removed.position);
  assert.is(items[1]!.actor, managerId);
});

test('pages of 3 hold the same entries as one read', async ({ auditor, itemUrl }) => {
  const paged = await fullHistory(auditor, itemUrl, 3);
  const whole = (await page(auditor, `${itemUrl}/history`)).items;
  assert.equal(paged, whole);
});

test('a client’s X-Correlation-Id is echoed and recorded on the event it caused', async ({ auditor, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 5);
  const correlationId = unique('till-7-');
  const sold = await manager.patch(itemUrl, { delta: -1, reason: 'sold' }, { 'x-correlation-id': correlationId });
  assertWritten(sold);
  assert.is(sold.headers['x-correlation-id'], correlationId);
  const { items } = await page(auditor, `${itemUrl}/history`);
  const entries = items as (HistoryEntry & { correlationId: string })[];
  assert.is(entries[1]!.correlationId, correlationId);
  assert.is.not(entries[0]!.correlationId, correlationId, 'the earlier event keeps its own');
});

test('a read-api process alone serves the history, from the event store; a write-api alone does not', async ({ harness, auditor, itemUrl }) => {
  const secret = 'test-secret-that-is-long-enough-for-hs256-0123456789';
  const processWith = (ROLES: string) =>
    buildApp({ config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret, ROLES }), pool: harness.db.pool, eventStore: harness.eventStore, jwtSecret: secret, logger: false });
  const [reader, writer] = await Promise.all([processWith('read-api'), processWith('write-api')]);
  try {
    const get = (app: typeof reader) => app.inject({ method: 'GET', url: `${itemUrl}/history`, headers: { authorization: `Bearer ${auditor.token}` } });
    const read = await get(reader);
    assert.is(read.statusCode, 200, read.body);
    assert.equal(read.json(), await page(auditor, `${itemUrl}/history`));
    assert.is((await get(writer)).statusCode, 404, 'the write API no longer has the route');
  } finally {
    await Promise.all([reader.close(), writer.close()]);
  }
});

test.run();
