import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Harness, login } from '../../support/app.js';
import { assertProblem, createUser, unique } from '../../support/http-assertions.js';
import { collect, type Getters, lower, ok, referenceSort, type Seed, type SeedSku, seedReadModel, startReadHarness, upper } from './support.js';

interface Context {
  harness: Harness;
  seed: Seed;
}

interface OverallRow {
  skuId: string;
  code: string;
  name: string;
  category: string | null;
  unit: string;
  totalQuantity: number;
  storeCount: number;
  lowStockStoreCount: number;
}
interface StoreRow {
  storeId: string;
  skuId: string;
  code: string;
  name: string;
  category: string | null;
  unit: string;
  quantity: number;
  lowStockThreshold: number;
  lowStock: boolean;
  revision: number;
}

/** The overall rows the API must answer, computed in JS from the seeded stock (over `storeIds` when given). */
function overall(seed: Seed, storeIds?: readonly string[]): OverallRow[] {
  const rows = new Map<string, OverallRow>();
  for (const item of seed.stock) {
    if (item.removed || (storeIds && !storeIds.includes(item.storeId))) continue;
    const sku = seed.skus.find((k) => k.id === item.skuId)!;
    const row = rows.get(sku.id) ?? {
      skuId: sku.id,
      code: sku.code,
      name: sku.name,
      category: sku.category,
      unit: sku.unit,
      totalQuantity: 0,
      storeCount: 0,
      lowStockStoreCount: 0,
    };
    row.totalQuantity += item.quantity;
    row.storeCount += 1;
    if (item.quantity <= item.lowStockThreshold) row.lowStockStoreCount += 1;
    rows.set(sku.id, row);
  }
  return [...rows.values()];
}

function storeRows(seed: Seed, storeId: string): StoreRow[] {
  return seed.stock
    .filter((item) => item.storeId === storeId && !item.removed)
    .map((item) => {
      const sku: SeedSku = seed.skus.find((k) => k.id === item.skuId)!;
      return {
        storeId,
        skuId: sku.id,
        code: sku.code,
        name: sku.name,
        category: sku.category,
        unit: sku.unit,
        quantity: item.quantity,
        lowStockThreshold: item.lowStockThreshold,
        lowStock: item.quantity <= item.lowStockThreshold,
        revision: item.revision,
      };
    });
}

const overallGetters: Getters<OverallRow> = {
  code: (r) => upper(r.code),
  name: (r) => lower(r.name),
  category: (r) => r.category,
  totalQuantity: (r) => r.totalQuantity,
  storeCount: (r) => r.storeCount,
  lowStockStoreCount: (r) => r.lowStockStoreCount,
};
const storeGetters: Getters<StoreRow> = {
  code: (r) => upper(r.code),
  name: (r) => lower(r.name),
  category: (r) => r.category,
  quantity: (r) => r.quantity,
  lowStockThreshold: (r) => r.lowStockThreshold,
};

const test = suite<Context>('read API: inventory and the dashboard');

test.before(async (context) => {
  context.harness = await startReadHarness('read_inventory');
  context.seed = await seedReadModel(context.harness);
});
test.after(async ({ harness }) => harness.close());

test('GET /api/inventory: one row per SKU summed over stores, in any sort, every row once across pages', async ({ seed }) => {
  const expected = overall(seed);
  assert.ok(expected.length > 60, 'enough rows to cross pages');
  const plain = await collect<OverallRow>(seed.manager, '/api/inventory?limit=13');
  assert.equal(plain.items, referenceSort(expected, 'code', overallGetters, (r) => r.skuId));
  for (const sort of ['-totalQuantity', 'totalQuantity,code', '-lowStockStoreCount,-totalQuantity', 'category,-storeCount,name', '-category,totalQuantity', '-name,code']) {
    const { items } = await collect<OverallRow>(seed.manager, `/api/inventory?sort=${sort}&limit=11`);
    assert.equal(items.map((r) => r.skuId), referenceSort(expected, sort, overallGetters, (r) => r.skuId).map((r) => r.skuId), sort);
  }
  const byAuditor = await collect<OverallRow>(seed.auditor, '/api/inventory?limit=200');
  assert.is(byAuditor.items.length, expected.length);
});

test('GET /api/inventory: filters lowStock, minQuantity, maxQuantity, category, q', async ({ seed }) => {
  const all = overall(seed);
  const check = async (query: string, keep: (row: OverallRow) => boolean) => {
    const { items } = await collect<OverallRow>(seed.manager, `/api/inventory?${query}&sort=-totalQuantity,code&limit=9`);
    const expected = referenceSort(all.filter(keep), '-totalQuantity,code', overallGetters, (r) => r.skuId);
    assert.ok(expected.length > 0, `${query} selects something`);
    assert.equal(items, expected, query);
  };
  await check('lowStock=true', (r) => r.lowStockStoreCount > 0);
  await check('lowStock=false', (r) => r.lowStockStoreCount === 0);
  await check('minQuantity=40', (r) => r.totalQuantity >= 40);
  await check('maxQuantity=30', (r) => r.totalQuantity <= 30);
  await check('minQuantity=20&maxQuantity=60&category=dairy', (r) => r.totalQuantity >= 20 && r.totalQuantity <= 60 && r.category === 'dairy');
  await check('q=GRAPES', (r) => r.name.includes('grapes'));
});

test('GET /api/inventory for staff: sums over their own stores only', async ({ seed }) => {
  const expected = overall(seed, seed.staffStoreIds);
  const { items } = await collect<OverallRow>(seed.staff, '/api/inventory?sort=-totalQuantity,name&limit=10');
  assert.equal(items, referenceSort(expected, '-totalQuantity,name', overallGetters, (r) => r.skuId));
  const low = await collect<OverallRow>(seed.staff, '/api/inventory?lowStock=true&minQuantity=1');
  assert.equal(low.items, referenceSort(expected.filter((r) => r.lowStockStoreCount > 0 && r.totalQuantity >= 1), 'code', overallGetters, (r) => r.skuId));
  assert.ok(items.some((row) => overall(seed).find((r) => r.skuId === row.skuId)!.totalQuantity !== row.totalQuantity), 'differs from the sum over every store');
});

// Of one store, the staff sums are that store's rows read straight from `stock` (no sum on read).
test('GET /api/inventory for a staff member of one store: that store\'s items in every sort and filter, every row once across pages', async ({ harness, seed }) => {
  const storeId = seed.staffStoreIds[0]!;
  const username = unique('one-store');
  await createUser(seed.manager, { username, password: 'one-store-password-1', role: 'staff', storeIds: [storeId] });
  const staff = await login(harness, username, 'one-store-password-1');
  const expected = overall(seed, [storeId]);
  assert.ok(expected.length > 20, 'enough rows to cross pages');
  assert.equal((await collect<OverallRow>(staff, '/api/inventory?limit=7')).items, referenceSort(expected, 'code', overallGetters, (r) => r.skuId));
  for (const sort of ['-totalQuantity', 'totalQuantity,code', '-lowStockStoreCount,name', 'lowStockStoreCount', 'storeCount', '-storeCount,-totalQuantity', 'category,-totalQuantity', '-name']) {
    const { items } = await collect<OverallRow>(staff, `/api/inventory?sort=${sort}&limit=7`);
    assert.equal(items.map((r) => r.skuId), referenceSort(expected, sort, overallGetters, (r) => r.skuId).map((r) => r.skuId), sort);
  }
  const check = async (query: string, keep: (row: OverallRow) => boolean) => {
    const { items } = await collect<OverallRow>(staff, `/api/inventory?${query}&sort=-lowStockStoreCount,totalQuantity&limit=5`);
    assert.equal(items, referenceSort(expected.filter(keep), '-lowStockStoreCount,totalQuantity', overallGetters, (r) => r.skuId), query);
  };
  await check('lowStock=true', (r) => r.lowStockStoreCount > 0);
  await check('lowStock=false', (r) => r.lowStockStoreCount === 0);
  await check('minQuantity=40', (r) => r.totalQuantity >= 40);
  await check('maxQuantity=30&category=dairy', (r) => r.totalQuantity <= 30 && r.category === 'dairy');
  await check('q=GRAPES', (r) => r.name.includes('grapes'));
});

test('GET /api/inventory/stores/:storeId: the stock of one store, removed items left out; sorts and filters', async ({ seed }) => {
  const storeId = seed.staffStoreIds[0]!;
  const expected = storeRows(seed, storeId);
  assert.ok(seed.stock.some((item) => item.storeId === storeId && item.removed), 'the store has removed items');
  const plain = await collect<StoreRow>(seed.staff, `/api/inventory/stores/${storeId}?limit=8`);
  assert.equal(plain.items, referenceSort(expected, 'code', storeGetters, (r) => r.skuId));
  for (const sort of ['quantity', '-quantity', '-quantity,name', 'category,-lowStockThreshold', '-category,-quantity,code', 'lowStockThreshold,quantity']) {
    const { items } = await collect<StoreRow>(seed.manager, `/api/inventory/stores/${storeId}?sort=${sort}&limit=6`);
    assert.equal(items.map((r) => r.skuId), referenceSort(expected, sort, storeGetters, (r) => r.skuId).map((r) => r.skuId), sort);
  }
  const check = async (query: string, keep: (row: StoreRow) => boolean) => {
    const { items } = await collect<StoreRow>(seed.manager, `/api/inventory/stores/${storeId}?${query}&sort=quantity&limit=5`);
    const wanted = referenceSort(expected.filter(keep), 'quantity', storeGetters, (r) => r.skuId);
    assert.ok(wanted.length > 0, `${query} selects something`);
    assert.equal(items, wanted, query);
  };
  await check('lowStock=true', (r) => r.quantity <= r.lowStockThreshold);
  await check('lowStock=false', (r) => r.quantity > r.lowStockThreshold);
  await check('minQuantity=10&maxQuantity=20', (r) => r.quantity >= 10 && r.quantity <= 20);
  await check('category=bakery', (r) => r.category === 'bakery');
  await check('q=jar', (r) => r.name.includes('jar'));
  assert.ok(plain.items.every((r) => r.lowStock === r.quantity <= r.lowStockThreshold));
});

test('GET /api/inventory/stores/:storeId: staff 403 on another store; auditors read it; 404 for no such store', async ({ seed }) => {
  assertProblem(await seed.staff.get(`/api/inventory/stores/${seed.otherStoreId}`), 403, { type: 'forbidden' });
  const byAuditor = await collect<StoreRow>(seed.auditor, `/api/inventory/stores/${seed.otherStoreId}?limit=200`);
  assert.is(byAuditor.items.length, storeRows(seed, seed.otherStoreId).length);
  assertProblem(await seed.manager.get(`/api/inventory/stores/${randomUUID()}`), 404, { type: 'not-found' });
  const empty = seed.stores[8]!;
  assert.equal(ok(await seed.manager.get(`/api/inventory/stores/${empty.id}`)), { items: [], next: null }, 'a store with no stock: an empty list');
});

test('GET /api/inventory/stores/:storeId/items/:skuId: the item with ETag; 404 when removed or absent; staff 403 elsewhere', async ({ seed }) => {
  const item = seed.stock.find((i) => i.storeId === seed.staffStoreIds[1] && !i.removed)!;
  const response = await seed.staff.get(`/api/inventory/stores/${item.storeId}/items/${item.skuId}`);
  assert.equal(ok(response), { storeId: item.storeId, skuId: item.skuId, quantity: item.quantity, lowStockThreshold: item.lowStockThreshold, revision: item.revision });
  assert.is(response.headers.etag, `"${item.revision}"`);
  const removed = seed.stock.find((i) => i.removed)!;
  assertProblem(await seed.manager.get(`/api/inventory/stores/${removed.storeId}/items/${removed.skuId}`), 404, { type: 'not-found' });
  assertProblem(await seed.manager.get(`/api/inventory/stores/${item.storeId}/items/${randomUUID()}`), 404, { type: 'not-found' });
  const elsewhere = seed.stock.find((i) => i.storeId === seed.otherStoreId && !i.removed)!;
  assertProblem(await seed.staff.get(`/api/inventory/stores/${elsewhere.storeId}/items/${elsewhere.skuId}`), 403, { type: 'forbidden' });
  assert.is((await seed.auditor.get(`/api/inventory/stores/${elsewhere.storeId}/items/${elsewhere.skuId}`)).statusCode, 200);
});

test('GET /api/reports/inventory: the dashboard for managers and auditors, 403 for staff', async ({ seed }) => {
  interface Report {
    stores: number;
    openStores: number;
    skus: number;
    items: number;
    unitsInStock: number;
    lowStockItems: number;
    outOfStockItems: number;
    lowest: { storeId: string; storeName: string; skuId: string; code: string; name: string; quantity: number; lowStockThreshold: number; margin: number }[];
    readPosition: string;
  }
  const report = ok<Report>(await seed.manager.get('/api/reports/inventory'));
  const live = seed.stock.filter((i) => !i.removed);
  assert.is(report.stores, seed.stores.length);
  assert.is(report.openStores, seed.stores.filter((s) => s.status === 'open').length);
  assert.is(report.skus, seed.skus.filter((k) => !k.deleted).length);
  assert.is(report.items, live.length);
  assert.is(report.unitsInStock, live.reduce((sum, i) => sum + i.quantity, 0));
  assert.is(report.lowStockItems, live.filter((i) => i.quantity <= i.lowStockThreshold).length);
  assert.is(report.outOfStockItems, live.filter((i) => i.quantity === 0).length);
  assert.is(report.readPosition, '100');
  const lowest = [...live].sort(
    (a, b) =>
      a.quantity - a.lowStockThreshold - (b.quantity - b.lowStockThreshold) ||
      a.quantity - b.quantity ||
      (a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : 0) ||
      (a.skuId < b.skuId ? -1 : a.skuId > b.skuId ? 1 : 0),
  );
  assert.equal(report.lowest.map((r) => `${r.storeId}/${r.skuId}`), lowest.slice(0, 10).map((i) => `${i.storeId}/${i.skuId}`));
  const first = report.lowest[0]!;
  assert.is(first.margin, first.quantity - first.lowStockThreshold);
  assert.is(first.storeName, seed.stores.find((s) => s.id === first.storeId)!.name);
  assert.is((await seed.auditor.get('/api/reports/inventory')).statusCode, 200);
  assertProblem(await seed.staff.get('/api/reports/inventory'), 403, { type: 'forbidden' });
});

test.run();
