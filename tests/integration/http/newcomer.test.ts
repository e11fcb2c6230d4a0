import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';

const test = suite<{ harness: Harness }>('HTTP: the newcomer’s walk through the README');

test.before(async (context) => {
  context.harness = await startHarness('newcomer');
});
test.after(async ({ harness }) => harness.close());

test('log in as the first manager, create a store, a SKU and a staff user, then adjust stock', async ({ harness }) => {
  const manager = await login(harness, ADMIN.username, ADMIN.password);

  const store = await manager.post('/api/stores', { name: 'Main Street', code: 'MS1', address: '1 Main Street' });
  assert.is(store.statusCode, 201, store.body);
  const storeBody = store.json<{ id: string; revision: number; position: string }>();
  assert.is(storeBody.revision, 0);
  assert.match(storeBody.position, /^\d+$/);
  assert.is(store.headers.etag, '"0"');
  assert.is(store.headers.location, `/api/stores/${storeBody.id}`);

  const sku = await manager.post('/api/skus', { code: 'TEA-01', name: 'Green tea', category: 'tea', price: '4.50', lowStockThreshold: 5 });
  assert.is(sku.statusCode, 201, sku.body);
  const skuId = sku.json<{ id: string }>().id;
  assert.is(sku.json<{ unit: string }>().unit, 'each');

  const staff = await manager.post('/api/users', {
    username: 'sam',
    password: 'sam-password-1',
    role: 'staff',
    displayName: 'Sam',
    storeIds: [storeBody.id],
  });
  assert.is(staff.statusCode, 201, staff.body);
  assert.not.ok('passwordHash' in staff.json());

  const sam = await login(harness, 'sam', 'sam-password-1');
  const added = await sam.post(`/api/inventory/stores/${storeBody.id}/items`, { skuId, quantity: 12 });
  assert.is(added.statusCode, 201, added.body);
  assert.is(added.json<{ lowStockThreshold: number }>().lowStockThreshold, 5, 'the SKU’s default threshold');

  const itemUrl = `/api/inventory/stores/${storeBody.id}/items/${skuId}`;
  const sold = await sam.patch(itemUrl, { delta: -2, reason: 'sold', note: 'till 1' });
  assert.is(sold.statusCode, 200, sold.body);
  const soldBody = sold.json<{ quantity: number; revision: number; position: string }>();
  assert.is(soldBody.quantity, 10);
  assert.is(soldBody.revision, 1);
  assert.ok(BigInt(soldBody.position) > BigInt(storeBody.position));

  const counted = await sam.patch(itemUrl, { countedQuantity: 9, note: 'shelf count' });
  assert.is(counted.json<{ quantity: number }>().quantity, 9);
  const threshold = await sam.patch(itemUrl, { lowStockThreshold: 2 });
  assert.is(threshold.json<{ lowStockThreshold: number }>().lowStockThreshold, 2);

  const history = await manager.get(`${itemUrl}/history`);
  assert.is(history.statusCode, 200, history.body);
  const entries = history.json<{ items: { type: string; actor: string; reason?: string; revision: number; position: string }[] }>().items;
  assert.equal(entries.map((e) => e.type), ['StockItemAdded', 'StockAdjusted', 'StockCounted', 'LowStockThresholdChanged']);
  assert.is(entries[1]!.reason, 'sold');
  assert.is(entries[1]!.actor, staff.json<{ id: string }>().id, 'who sold it');
  assert.equal(entries.map((e) => e.revision), [0, 1, 2, 3]);

  const me = await sam.get('/api/auth/me');
  assert.is(me.json<{ username: string; role: string }>().username, 'sam');
  assert.is(me.json<{ role: string }>().role, 'staff');

  const removed = await manager.delete(itemUrl);
  assert.is(removed.statusCode, 200, removed.body);
  assert.is(removed.json<{ removed: boolean }>().removed, true);
});

test('OpenAPI is served at /docs/json and lists the command routes', async ({ harness }) => {
  const response = await harness.app.inject({ method: 'GET', url: '/docs/json' });
  assert.is(response.statusCode, 200);
  const paths = Object.keys(response.json<{ paths: Record<string, unknown> }>().paths);
  for (const path of ['/api/auth/login', '/api/users', '/api/stores', '/api/skus', '/api/inventory/stores/{storeId}/items/{skuId}']) {
    assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  }
});

test.run();
