import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { refused } from '../../support/http-assertions.js';

/** The OpenAPI document at /docs/json says what the answers do. (`npm run lint:openapi` lints it.) */
type Json = Record<string, any>;
const test = suite<{ harness: Harness; manager: Client; document: Json }>('HTTP: the OpenAPI document matches the answers');

test.before(async (context) => {
  context.harness = await startHarness('openapi', {}, { projections: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const response = await context.harness.app.inject({ method: 'GET', url: '/docs/json' });
  assert.is(response.statusCode, 200);
  context.document = response.json<Json>();
});
test.after(async ({ harness }) => harness.close());

const operations = (document: Json) =>
  Object.entries(document.paths as Json).flatMap(([path, item]) => Object.entries(item as Json).map(([method, operation]) => ({ path, method, operation: operation as Json })));

test('every operation has a unique operationId, every error is problem+json, and there is a server', ({ document }) => {
  assert.ok(Array.isArray(document.servers) && document.servers.length > 0 && typeof document.servers[0].url === 'string', 'servers');
  const ids = operations(document).map(({ operation }) => operation.operationId);
  assert.ok(ids.length > 25, `operations: ${ids.length}`);
  assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0), 'an operationId on every operation');
  assert.is(new Set(ids).size, ids.length, 'unique');
  for (const { path, method, operation } of operations(document)) {
    for (const [status, response] of Object.entries(operation.responses as Json)) {
      if (status !== 'default' && Number(status) < 400) continue;
      assert.equal(Object.keys((response as Json).content ?? {}), ['application/problem+json'], `${method} ${path} ${status}`);
    }
  }
});

test('login needs no token; commands document If-Match, Idempotency-Key, ETag and Location', ({ document }) => {
  assert.equal(document.paths['/api/auth/login'].post.security, []);
  assert.ok(document.security.length > 0, 'everything else needs the bearer token');
  const patch = document.paths['/api/inventory/stores/{storeId}/items/{skuId}'].patch;
  const headers = patch.parameters.filter((parameter: Json) => parameter.in === 'header').map((parameter: Json) => parameter.name);
  assert.ok(headers.includes('if-match') && headers.includes('idempotency-key'), headers.join(','));
  assert.ok(patch.responses['200'].headers.ETag, 'ETag on the change');
  const create = document.paths['/api/stores'].post;
  assert.ok(create.parameters.some((parameter: Json) => parameter.name === 'idempotency-key'));
  assert.ok(!create.parameters.some((parameter: Json) => parameter.name === 'if-match'), 'a creation has nothing to match');
  assert.ok(create.responses['201'].headers.ETag && create.responses['201'].headers.Location, 'ETag and Location on 201');
});

test('the item PATCH is exactly one of its three shapes, in the document and in the answers', async ({ document, harness, manager }) => {
  const body = document.paths['/api/inventory/stores/{storeId}/items/{skuId}'].patch.requestBody.content['application/json'].schema;
  assert.is(body.oneOf.length, 3, JSON.stringify(body));
  const shapes = body.oneOf.map((shape: Json) => [...shape.required].sort().join(','));
  assert.equal(shapes, ['delta,reason', 'countedQuantity', 'lowStockThreshold']);
  assert.ok(body.oneOf.every((shape: Json) => shape.additionalProperties === false), 'closed shapes, so one matches at most');

  const { itemUrl } = await seedStore(harness, manager, 10);
  for (const change of [{ delta: -1, reason: 'sold', note: 'till 2' }, { countedQuantity: 7 }, { lowStockThreshold: 2 }]) {
    const answer = await manager.patch(itemUrl, change);
    assert.is(answer.statusCode, 200, answer.body);
    assert.match(String(answer.headers.etag), /^"\d+"$/);
  }
  await refused(harness, () => manager.patch(itemUrl, { delta: -1, reason: 'sold', countedQuantity: 3 }), 400);
  await refused(harness, () => manager.patch(itemUrl, { lowStockThreshold: 2, note: 'x' }), 400, { fields: ['note'] });
  const created = await manager.post('/api/stores', { name: 'Documented' });
  assert.is(created.statusCode, 201);
  assert.match(String(created.headers.location), /^\/api\/stores\//);
  assert.match(String(created.headers.etag), /^"\d+"$/);
});

test('an integer in a query string is digits: limit=1e3 is a 400 naming it, as are 0x10 and 5.0', async ({ document, harness, manager }) => {
  const limit = document.paths['/api/stores'].get.parameters.find((parameter: Json) => parameter.name === 'limit');
  assert.is(limit.schema.type, 'integer');
  for (const value of ['1e3', '1e1', '0x10', '5.0', '%205']) {
    await refused(harness, () => manager.get(`/api/stores?limit=${value}`), 400, { type: 'validation', fields: ['query.limit'] });
  }
  await refused(harness, () => manager.get('/api/inventory?minQuantity=1e1'), 400);
  assert.is((await manager.get('/api/stores?limit=10')).statusCode, 200);
});

test.run();
