import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, refused } from '../../support/http-assertions.js';

const test = suite<{ harness: Harness; manager: Client }>('HTTP: a store or SKU with stock left is neither closed nor deleted');

test.before(async (context) => {
  context.harness = await startHarness('stock_remains');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

test('closing a store with 7 units left is refused naming the item; written off, it closes', async ({ harness, manager }) => {
  const { storeId, skuId, itemUrl } = await seedStore(harness, manager, 7);
  const refusal = await refused(harness, () => manager.delete(`/api/stores/${storeId}`), 409, { type: 'stock-remains', fields: [`items.${skuId}`], reason: /holds 7 unit/ });
  assert.match(refusal.detail, /7 unit\(s\) in 1 item/);
  // Still open: it still sells.
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));
  assertWritten(await manager.patch(itemUrl, { countedQuantity: 0, note: 'written off' }));
  assert.is((await manager.delete(`/api/stores/${storeId}`)).statusCode, 200);
});

test('an item of a closed store takes no receipt, sale or count above 0, naming the store; a count of 0 still writes off', async ({ harness, manager }) => {
  const { storeId, itemUrl } = await seedStore(harness, manager, 0);
  assert.is((await manager.delete(`/api/stores/${storeId}`)).statusCode, 200);
  for (const change of [{ delta: 5, reason: 'received' }, { delta: -1, reason: 'sold' }, { countedQuantity: 3 }]) {
    const refusal = await refused(harness, () => manager.patch(itemUrl, change), 409, { type: 'store-not-open' });
    assert.match(refusal.detail, storeId, JSON.stringify(change));
  }
  // The way out for stock a receipt racing the close left behind.
  assertWritten(await manager.patch(itemUrl, { countedQuantity: 0, note: 'written off after close' }));
});

test('deleting a SKU a store holds stock of is refused naming the store', async ({ harness, manager }) => {
  const { storeId, skuId } = await seedStore(harness, manager, 3);
  await refused(harness, () => manager.delete(`/api/skus/${skuId}`), 409, { type: 'stock-remains', fields: [`items.${storeId}`] });
  // Still there: it can still be stocked elsewhere.
  const other = (await manager.post('/api/stores', { name: 'Second store' })).json<{ id: string }>();
  assert.is((await manager.post(`/api/inventory/stores/${other.id}/items`, { skuId, quantity: 1 })).statusCode, 201);
});

test.run();
