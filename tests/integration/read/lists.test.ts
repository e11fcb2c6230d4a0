import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Harness } from '../../support/app.js';
import { assertProblem } from '../../support/http-assertions.js';
import {
  CATEGORIES,
  collect,
  type Getters,
  lower,
  ok,
  type PageBody,
  referenceSort,
  type Seed,
  type SeedSku,
  type SeedStore,
  type SeedUser,
  seedReadModel,
  startReadHarness,
  upper,
} from './support.js';

interface Context {
  harness: Harness;
  seed: Seed;
}

interface SkuBody {
  id: string;
  code: string;
  name: string;
  category: string | null;
  unit: string;
  price: string | null;
  lowStockThreshold: number;
  deleted: boolean;
  revision: number;
}
interface UserBody {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  role: string;
  storeIds: string[];
  revision: number;
}
type StoreBody = SeedStore;

const skuGetters: Getters<SeedSku> = {
  code: (k) => upper(k.code),
  name: (k) => lower(k.name),
  category: (k) => k.category,
  price: (k) => (k.price === null ? null : Number(k.price)),
  lowStockThreshold: (k) => k.lowStockThreshold,
};
const userGetters: Getters<SeedUser> = {
  username: (u) => lower(u.username),
  displayName: (u) => lower(u.displayName),
  role: (u) => u.role,
};
const storeGetters: Getters<SeedStore> = {
  name: (s) => lower(s.name),
  code: (s) => upper(s.code),
  status: (s) => s.status,
};

const skuBody = (k: SeedSku): SkuBody => ({
  id: k.id,
  code: k.code,
  name: k.name,
  category: k.category,
  unit: k.unit,
  price: k.price,
  lowStockThreshold: k.lowStockThreshold,
  deleted: k.deleted,
  revision: k.revision,
});
const userBody = (u: SeedUser): UserBody => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  email: u.email,
  role: u.role,
  storeIds: u.storeIds,
  revision: u.revision,
});

const test = suite<Context>('read API: users, stores and SKUs lists');

test.before(async (context) => {
  context.harness = await startReadHarness('read_lists');
  context.seed = await seedReadModel(context.harness);
});
test.after(async ({ harness }) => harness.close());

test('GET /api/skus: 50 by default, every live SKU exactly once in code order, across pages', async ({ seed }) => {
  const first = ok<PageBody<SkuBody>>(await seed.manager.get('/api/skus'));
  assert.is(first.items.length, 50);
  assert.type(first.next, 'string');
  const live = seed.skus.filter((k) => !k.deleted);
  const { items, pages } = await collect<SkuBody>(seed.manager, '/api/skus?limit=17');
  assert.is(pages, Math.ceil(live.length / 17));
  assert.equal(items, referenceSort(live, 'code', skuGetters, (k) => k.id).map(skuBody));
  assert.is(new Set(items.map((k) => k.id)).size, live.length, 'no row twice');
});

test('GET /api/skus: multi-field sorts with "-" and NULL categories and prices match a reference sort', async ({ seed }) => {
  const live = seed.skus.filter((k) => !k.deleted);
  assert.ok(live.some((k) => k.price === null) && live.some((k) => k.category === null), 'the data has NULLs');
  for (const sort of [
    'category,-price,name',
    '-category,price',
    'price',
    '-price',
    '-lowStockThreshold,-name',
    'name,-code',
    '-name',
    'lowStockThreshold,category,-price',
    'category',
    '-category',
  ]) {
    for (const limit of [7, 50]) {
      const { items } = await collect<SkuBody>(seed.manager, `/api/skus?sort=${sort}&limit=${limit}`);
      const expected = referenceSort(live, sort, skuGetters, (k) => k.id).map((k) => k.id);
      assert.equal(items.map((k) => k.id), expected, `sort=${sort} limit=${limit}`);
    }
  }
});

test('GET /api/skus: q over code and name, case-insensitive; % is no wildcard', async ({ seed }) => {
  const { items } = await collect<SkuBody>(seed.manager, '/api/skus?q=HONEY&limit=200');
  const expected = seed.skus.filter((k) => !k.deleted && (k.name.toLowerCase().includes('honey') || k.code.toLowerCase().includes('honey')));
  assert.ok(expected.length > 0);
  assert.equal(items.map((k) => k.id).sort(), expected.map((k) => k.id).sort());
  const byCode = ok<PageBody<SkuBody>>(await seed.manager.get('/api/skus?q=sku-01'));
  assert.ok(byCode.items.length > 0 && byCode.items.every((k) => k.code.startsWith('SKU-01')));
  assert.equal(ok<PageBody<SkuBody>>(await seed.manager.get('/api/skus?q=%25')).items, []);
});

test('GET /api/skus: category and deleted filters; the cursor keeps the filters', async ({ seed }) => {
  for (const category of CATEGORIES.filter((c) => c !== null)) {
    const { items } = await collect<SkuBody>(seed.manager, `/api/skus?category=${category}&sort=-price,code&limit=5`);
    const expected = referenceSort(
      seed.skus.filter((k) => !k.deleted && k.category === category),
      '-price,code',
      skuGetters,
      (k) => k.id,
    );
    assert.equal(items, expected.map(skuBody), category);
  }
  const deleted = await collect<SkuBody>(seed.manager, '/api/skus?deleted=true&limit=3');
  const expectedDeleted = referenceSort(seed.skus.filter((k) => k.deleted), 'code', skuGetters, (k) => k.id);
  assert.ok(expectedDeleted.length >= 3);
  assert.equal(deleted.items, expectedDeleted.map(skuBody));
  assert.ok(deleted.items.every((k) => k.deleted));
  const live = await collect<SkuBody>(seed.manager, '/api/skus?deleted=false&limit=200');
  assert.is(live.items.length, seed.skus.filter((k) => !k.deleted).length);
});

test('GET /api/skus/:id: the SKU with its price as a decimal string and ETag; a deleted one is marked; 404 when absent', async ({ seed }) => {
  const sku = seed.skus.find((k) => k.price === '4.50' && !k.deleted)!;
  const response = await seed.staff.get(`/api/skus/${sku.id}`);
  assert.equal(ok<SkuBody>(response), skuBody(sku));
  assert.is(response.headers.etag, `"${sku.revision}"`);
  const fine = seed.skus.find((k) => k.price === '4.125')!;
  assert.is(ok<SkuBody>(await seed.auditor.get(`/api/skus/${fine.id}`)).price, '4.125');
  const gone = seed.skus.find((k) => k.deleted)!;
  assert.is(ok<SkuBody>(await seed.manager.get(`/api/skus/${gone.id}`)).deleted, true);
  assertProblem(await seed.manager.get(`/api/skus/${randomUUID()}`), 404, { type: 'not-found' });
  assertProblem(await seed.manager.get('/api/skus/not-a-uuid'), 400, { fields: ['params.id'] });
});

test('GET /api/users: managers and auditors list users (deleted ones left out); role filter; q; sorts', async ({ seed }) => {
  const live = seed.users.filter((u) => !u.deleted);
  const all = await collect<UserBody>(seed.manager, '/api/users?limit=9');
  assert.equal(all.items, referenceSort(live, 'username', userGetters, (u) => u.id).map(userBody));
  const byAuditor = await collect<UserBody>(seed.auditor, '/api/users?limit=200');
  assert.is(byAuditor.items.length, live.length);

  for (const sort of ['-role,displayName', 'displayName,-username', '-displayName', 'role']) {
    const { items } = await collect<UserBody>(seed.manager, `/api/users?sort=${sort}&limit=6`);
    assert.equal(items.map((u) => u.id), referenceSort(live, sort, userGetters, (u) => u.id).map((u) => u.id), sort);
  }
  const staff = await collect<UserBody>(seed.manager, '/api/users?role=staff&limit=4');
  assert.equal(staff.items.map((u) => u.id), referenceSort(live.filter((u) => u.role === 'staff'), 'username', userGetters, (u) => u.id).map((u) => u.id));
  const staffWithStores = staff.items.find((u) => u.storeIds.length > 0);
  assert.ok(staffWithStores, 'storeIds come back as an array of ids');

  const org = await collect<UserBody>(seed.manager, '/api/users?q=EXAMPLE.ORG&limit=200');
  const expected = live.filter((u) => [u.username, u.displayName, u.email].some((text) => text?.toLowerCase().includes('example.org')));
  assert.ok(expected.length > 0);
  assert.equal(org.items.map((u) => u.id).sort(), expected.map((u) => u.id).sort());

  assertProblem(await seed.staff.get('/api/users'), 403, { type: 'forbidden' });
  assertProblem(await seed.manager.get('/api/users?role=boss'), 400, { fields: ['query.role'] });
});

test('GET /api/stores: everything for managers and auditors, only their own for staff; status filter; sorts', async ({ seed }) => {
  for (const sort of ['name', '-code,name', 'status,-name', 'code']) {
    const { items } = await collect<StoreBody>(seed.manager, `/api/stores?sort=${sort}&limit=4`);
    assert.equal(items, referenceSort(seed.stores, sort, storeGetters, (s) => s.id), sort);
  }
  const byAuditor = await collect<StoreBody>(seed.auditor, '/api/stores');
  assert.is(byAuditor.items.length, seed.stores.length);
  const closed = await collect<StoreBody>(seed.manager, '/api/stores?status=closed&limit=2');
  assert.equal(closed.items.map((s) => s.id), referenceSort(seed.stores.filter((s) => s.status === 'closed'), 'name', storeGetters, (s) => s.id).map((s) => s.id));

  const mine = await collect<StoreBody>(seed.staff, '/api/stores?limit=1');
  assert.equal(mine.items.map((s) => s.id).sort(), [...seed.staffStoreIds].sort());
  const searched = await collect<StoreBody>(seed.staff, '/api/stores?q=uptown');
  assert.equal(searched.items, [], "staff never see another store's row, even by name");
  const q = await collect<StoreBody>(seed.manager, '/api/stores?q=UPTOWN');
  assert.equal(q.items.map((s) => s.id), [seed.otherStoreId]);
  const byCode = await collect<StoreBody>(seed.manager, '/api/stores?q=st1');
  assert.equal(byCode.items.map((s) => s.id), [seed.staffStoreIds[1]]);
});

test('GET /api/stores/:id: the store with ETag; staff 403 on another store; 404 when absent', async ({ seed }) => {
  const store = seed.stores.find((s) => s.id === seed.staffStoreIds[0])!;
  const response = await seed.staff.get(`/api/stores/${store.id}`);
  assert.equal(ok<StoreBody>(response), store);
  assert.is(response.headers.etag, `"${store.revision}"`);
  assertProblem(await seed.staff.get(`/api/stores/${seed.otherStoreId}`), 403, { type: 'forbidden' });
  assert.is((await seed.auditor.get(`/api/stores/${seed.otherStoreId}`)).statusCode, 200);
  assertProblem(await seed.manager.get(`/api/stores/${randomUUID()}`), 404, { type: 'not-found' });
});

test('every read route needs a token', async ({ harness, seed }) => {
  for (const url of ['/api/users', '/api/stores', `/api/stores/${seed.otherStoreId}`, '/api/skus', '/api/inventory', '/api/reports/inventory']) {
    assertProblem(await harness.app.inject({ method: 'GET', url }), 401, { type: 'unauthorized' });
  }
});

test('OpenAPI lists the read routes with their tags', async ({ harness }) => {
  const doc = (await harness.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { tags?: string[] }>> }>();
  const expected: Record<string, string> = {
    '/api/users': 'users',
    '/api/stores': 'stores',
    '/api/stores/{id}': 'stores',
    '/api/skus': 'skus',
    '/api/skus/{id}': 'skus',
    '/api/inventory': 'inventory',
    '/api/inventory/stores/{storeId}': 'inventory',
    '/api/inventory/stores/{storeId}/items/{skuId}': 'inventory',
    '/api/reports/inventory': 'reports',
  };
  for (const [path, tag] of Object.entries(expected)) {
    assert.equal(doc.paths[path]?.get?.tags, [tag], path);
  }
});

test.run();
