import type { LightMyRequestResponse } from 'fastify';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { streamHistory } from '../../../src/read/history.js';
import { readApi } from '../../../src/read/plugin.js';
import { type Harness, startHarness } from '../../support/app.js';
import { CURSOR_SECRET, type PageBody, type Seed, seedReadModel } from './support.js';

interface Context {
  harness: Harness;
  seed: Seed;
}

const test = suite<Context>('read API: the store page on the plain pg pool answers as on slonik');

// One app, the read API twice: at /api on the plain pool (as main.ts wires it) and under
// /slonik on slonik's pool alone (as with KurrentDB, which has no plain pool).
test.before(async (context) => {
  const harness = await startHarness('read_store_page_plain', { ROLES: 'write-api' });
  await ensureReadModelSchema(harness.db.url);
  const history = streamHistory(harness.eventStore);
  await harness.app.register(readApi, { pool: harness.db.pool, plain: harness.plainPool ?? null, cursorSecret: CURSOR_SECRET, history });
  await harness.app.register(readApi, { prefix: '/slonik', pool: harness.db.pool, plain: null, cursorSecret: CURSOR_SECRET, history });
  context.harness = harness;
  context.seed = await seedReadModel(harness);
});
test.after(async ({ harness }) => harness.close());

test('every page, its cursor and its problems are the same bytes either way', async ({ seed }) => {
  const storeId = seed.staffStoreIds[0]!;
  const queries = [
    'limit=4',
    'limit=5&sort=-quantity,name',
    'limit=3&sort=category,-lowStockThreshold',
    'limit=4&sort=-category,-quantity,code',
    'limit=6&sort=lowStockThreshold,quantity',
    'limit=2&lowStock=true&sort=quantity',
    'limit=3&minQuantity=10&maxQuantity=40',
    'limit=3&q=jar',
    'limit=200',
  ];
  let pages = 0;
  for (const query of queries) {
    let cursor: string | null = null;
    for (;;) {
      const url: string = `/api/inventory/stores/${storeId}?${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const [plain, slonik]: LightMyRequestResponse[] = await Promise.all([seed.manager.get(url), seed.manager.get(`/slonik${url}`)]);
      assert.is(plain!.statusCode, 200, plain!.body);
      assert.is(plain!.body, slonik!.body, url);
      pages += 1;
      cursor = plain!.json<PageBody<unknown>>().next;
      if (cursor === null) break;
    }
  }
  assert.ok(pages > 20, `pages crossed (${pages})`);
  const refused = [`/api/inventory/stores/${storeId}?cursor=nope`, `/api/inventory/stores/${storeId}?sort=price`, `/api/inventory/stores/${seed.otherStoreId}x`];
  for (const url of refused) {
    const [plain, slonik] = await Promise.all([seed.manager.get(url), seed.manager.get(`/slonik${url}`)]);
    assert.is(plain.statusCode, 400, plain.body);
    // The problem's words, not its instance (the path differs by the prefix).
    const words = (body: Record<string, unknown>) => ({ type: body.type, title: body.title, status: body.status, detail: body.detail, errors: body.errors });
    assert.equal(words(plain.json()), words(slonik.json()), url);
  }
});

test.run();
