import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, createUser, refused, sleep, stockNewSku, unique } from '../../support/http-assertions.js';

interface Entry {
  type: string;
  data: Record<string, unknown>;
  actor: { id: string; username: string | null } | null;
  at: string;
  recordedAt: string;
  stream: string;
  revision: number;
  position: string;
  correlationId: string;
}

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
  auditor: Client;
  staff: Client;
  staffId: string;
  storeA: string;
  storeB: string;
  skuA: string;
  between: string;
  auditorName: string;
}

const test = suite<Context>('audit: the trail of every event');

test.before(async (context) => {
  const harness = await startHarness('audit-trail', {}, { projections: true });
  context.harness = harness;
  context.manager = await login(harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
  context.auditorName = unique('audrey');
  await createUser(context.manager, { username: context.auditorName, password: 'auditor-password-1', role: 'auditor' });
  context.auditor = await login(harness, context.auditorName, 'auditor-password-1');
  const a = await seedStore(harness, context.manager, 10);
  const b = await seedStore(harness, context.manager, 20);
  Object.assign(context, { storeA: a.storeId, storeB: b.storeId, skuA: a.skuId, staff: a.staff, staffId: a.staffId });
  assertWritten(await a.staff.patch(a.itemUrl, { delta: -2, reason: 'sold' }));
  await sleep(20);
  context.between = new Date().toISOString();
  await sleep(20);
  assertWritten(await a.staff.patch(a.itemUrl, { countedQuantity: 7 }));
  assertWritten(await context.manager.patch(b.itemUrl, { delta: 3, reason: 'received' }));
  // Usernames come from the read model: wait for the projector to know every user.
  for (let waited = 0; ; waited += 50) {
    const users = await harness.db.pool.oneFirst(sql.unsafe`select count(*) from read_model.users`).catch(() => 0n);
    if (users === 4n) break;
    if (waited > 15_000) throw new Error('the projector did not catch up');
    await sleep(50);
  }
});
test.after(async ({ harness }) => harness.close());

const page = async (client: Client, query: string) => {
  const response = await client.get(`/api/audit/events${query}`);
  assert.is(response.statusCode, 200, response.body);
  return response.json<{ items: Entry[]; next: string | null }>();
};

const everything = async (client: Client, query = '') => {
  const all: Entry[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '?';
    const { items, next }: { items: Entry[]; next: string | null } = await page(client, `${query}${cursor ? `${sep}cursor=${cursor}` : ''}`);
    all.push(...items);
    cursor = next;
    query = query || '?limit=100';
  } while (cursor !== null);
  return all;
};

test('every event in position order with type, data, actor and username, times, stream, revision and correlation id', async ({ auditor, managerId, harness }) => {
  const { items, next } = await page(auditor, '?limit=1000');
  assert.is(next, null);
  const head = await harness.eventStore.headPosition();
  assert.is(items.at(-1)!.position, head.toString());
  for (let index = 1; index < items.length; index += 1) assert.ok(BigInt(items[index]!.position) > BigInt(items[index - 1]!.position));
  const added = items.find((entry) => entry.type === 'StockItemAdded')!;
  assert.equal(added.actor, { id: managerId, username: ADMIN.username });
  assert.match(added.stream, /^stockitem-/);
  assert.is(added.revision, 0);
  assert.match(added.correlationId, /.+/);
  assert.ok(Date.parse(added.recordedAt) > 0 && Date.parse(added.at) > 0);
});

test('secrets are blanked', async ({ auditor }) => {
  const users = await everything(auditor, '?type=UserRegistered');
  assert.ok(users.length >= 3);
  for (const entry of users) assert.is(entry.data.passwordHash, '[redacted]');
});

test('filters: store, SKU, actor, types and time, alone and together', async ({ auditor, storeA, storeB, skuA, staffId, between }) => {
  const ofA = await everything(auditor, `?storeId=${storeA}`);
  assert.equal(ofA.map((entry) => entry.type), ['StoreOpened', 'StockItemAdded', 'StockAdjusted', 'StockCounted']);
  assert.ok(ofA.every((entry) => entry.stream === `store-${storeA}` || entry.stream.startsWith(`stockitem-${storeA}_`)));
  const ofB = await everything(auditor, `?storeId=${storeB}`);
  assert.equal(ofB.map((entry) => entry.type), ['StoreOpened', 'StockItemAdded', 'StockAdjusted']);

  const ofSku = await everything(auditor, `?skuId=${skuA}`);
  assert.equal(ofSku.map((entry) => entry.type), ['SkuCreated', 'StockItemAdded', 'StockAdjusted', 'StockCounted']);

  const byStaff = await everything(auditor, `?actor=${staffId}`);
  assert.equal(byStaff.map((entry) => entry.type), ['StockAdjusted', 'StockCounted']);

  const movements = await everything(auditor, '?type=StockAdjusted,StockCounted');
  assert.equal(movements.map((entry) => entry.type), ['StockAdjusted', 'StockCounted', 'StockAdjusted']);

  const after = await everything(auditor, `?from=${between}&storeId=${storeA}`);
  assert.equal(after.map((entry) => entry.type), ['StockCounted']);
  const before = await everything(auditor, `?to=${between}&actor=${staffId}`);
  assert.equal(before.map((entry) => entry.type), ['StockAdjusted']);
  assert.equal(await everything(auditor, `?storeId=${storeB}&actor=${staffId}`), []);
});

test('keyset pages of 2 hold the same events as one read', async ({ auditor }) => {
  const whole = (await page(auditor, '?limit=1000')).items;
  const paged: Entry[] = [];
  let cursor: string | null = null;
  do {
    const { items, next }: { items: Entry[]; next: string | null } = await page(auditor, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.ok(items.length <= 2);
    paged.push(...items);
    cursor = next;
  } while (cursor !== null);
  assert.equal(paged, whole);
});

test('ndjson and CSV exports hold the whole selection and end with its count', async ({ harness, auditor, storeA }) => {
  const pages = await everything(auditor, `?storeId=${storeA}`);
  const ndjson = await auditor.get(`/api/audit/events?storeId=${storeA}`, { accept: 'application/x-ndjson' });
  assert.is(ndjson.statusCode, 200, ndjson.body);
  assert.match(String(ndjson.headers['content-type']), /application\/x-ndjson/);
  const lines = ndjson.body.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
  assert.equal(lines.slice(0, -1), pages);
  assert.equal(lines.at(-1), { count: pages.length, complete: true });

  const csv = await auditor.get(`/api/audit/events?storeId=${storeA}`, { accept: 'text/csv' });
  assert.is(csv.statusCode, 200, csv.body);
  const rows = csv.body.trimEnd().split('\r\n');
  assert.is(rows[0], 'position,recordedAt,at,stream,revision,type,actorId,actorUsername,correlationId,data');
  assert.is(rows.length, pages.length + 2);
  assert.ok(rows[1]!.startsWith(`${pages[0]!.position},`));
  assert.match(rows[1]!, /,"\{""/, 'the data column is JSON, quoted');
  assert.is(rows.at(-1), `#count,${pages.length}`);
  void harness;
});

test('bad input: an unknown filter, a malformed cursor, an unknown type, a bad time are 400 naming it', async ({ harness, auditor }) => {
  await refused(harness, () => auditor.get('/api/audit/events?colour=red'), 400, { type: 'validation' });
  await refused(harness, () => auditor.get('/api/audit/events?cursor=abc'), 400, { type: 'validation', fields: ['query.cursor'] });
  await refused(harness, () => auditor.get('/api/audit/events?type=StockStolen'), 400, { type: 'validation' });
  await refused(harness, () => auditor.get('/api/audit/events?from=yesterday'), 400, { type: 'validation' });
  await refused(harness, () => auditor.get('/api/audit/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'), 400, { type: 'validation' });
});

test('managers read the trail; staff do not', async ({ harness, manager, staff }) => {
  assert.is((await manager.get('/api/audit/events?limit=1')).statusCode, 200);
  await refused(harness, () => staff.get('/api/audit/events'), 403, { type: 'forbidden' });
  await refused(harness, () => staff.get('/api/audit/events', { accept: 'text/csv' }), 403, { type: 'forbidden' });
});

test('an auditor attempting any write gets 403 and writes nothing', async ({ harness, auditor, storeA, skuA, staffId }) => {
  const item = `/api/inventory/stores/${storeA}/items/${skuA}`;
  const attempts = [
    () => auditor.post('/api/stores', { name: 'Audit Street' }),
    () => auditor.patch(`/api/stores/${storeA}`, { name: 'Renamed' }),
    () => auditor.delete(`/api/stores/${storeA}`),
    () => auditor.post('/api/skus', { code: unique('AUD-'), name: 'x' }),
    () => auditor.patch(`/api/skus/${skuA}`, { name: 'x' }),
    () => auditor.delete(`/api/skus/${skuA}`),
    () => auditor.post(`/api/inventory/stores/${storeA}/items`, { skuId: skuA, quantity: 1 }),
    () => auditor.patch(item, { delta: 1, reason: 'received' }),
    () => auditor.patch(item, { countedQuantity: 1 }),
    () => auditor.delete(item),
    () => auditor.post('/api/users', { username: unique('eve'), password: 'eve-password-1', role: 'manager' }),
    () => auditor.patch(`/api/users/${staffId}`, { displayName: 'x' }),
    () => auditor.put(`/api/users/${staffId}/stores`, { storeIds: [] }),
    () => auditor.delete(`/api/users/${staffId}`),
  ];
  for (const attempt of attempts) await refused(harness, attempt, 403, { type: 'forbidden' });
});

test.run();
