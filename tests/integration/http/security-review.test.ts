import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { refused } from '../../support/http-assertions.js';

/** What the security review (part 2) found over HTTP, each refused the way the contract says. */
interface Context {
  harness: Harness;
  manager: Client;
  itemUrl: string;
  storeId: string;
}

const test = suite<Context>('HTTP: the security review, part 2');

test.before(async (context) => {
  context.harness = await startHarness('secreview', {}, { projections: true });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const seeded = await seedStore(context.harness, context.manager, 10);
  context.itemUrl = seeded.itemUrl;
  context.storeId = seeded.storeId;
});
test.after(async ({ harness }) => harness.close());

test('a NUL byte or a lone surrogate anywhere is a 400 naming the field, and writes nothing', async ({ harness, manager, itemUrl }) => {
  await refused(harness, () => manager.get('/api/stores?q=%00'), 400, { type: 'validation', fields: ['query.q'], reason: /NUL/ });
  await refused(harness, () => manager.get('/api/skus?q=a%00b'), 400, { fields: ['query.q'] });
  await refused(harness, () => manager.post('/api/stores', { name: 'a\u0000' }), 400, { fields: ['name'], reason: /NUL/ });
  // A lone surrogate can only arrive escaped in JSON: JSON.stringify escapes it so.
  const note = JSON.stringify({ delta: -1, reason: 'sold', note: 'till \ud800 4' });
  assert.match(note, /\\ud800/);
  await refused(harness, () => manager.request({ method: 'PATCH', url: itemUrl, payload: note, headers: { 'content-type': 'application/json' } }), 400, {
    fields: ['note'],
    reason: /surrogate/,
  });
  await refused(harness, () => manager.post('/api/skus', { code: 'NUL-1', name: 'tea', category: 'x\u0000y' }), 400, { fields: ['category'] });
  await refused(harness, () => manager.post('/api/stores', { name: 'Quay', ['addr\u0000ess']: 'x' }), 400);
});

test('a NUL in a path parameter or the query is refused, escaped or as it is (a URL without % answers for them)', async ({ harness, manager, storeId }) => {
  await refused(harness, () => manager.get('/api/stores/%00'), 400, { type: 'validation', fields: ['params.id'], reason: /NUL/ });
  await refused(harness, () => manager.get(`/api/inventory/stores/${storeId}/items/a%00`), 400, { fields: ['params.skuId'], reason: /NUL/ });
  await refused(harness, () => manager.get('/api/stores?q=a\u0000b'), 400, { fields: ['query.q'], reason: /NUL/ });
  // (A lone surrogate cannot come in a URL: as UTF-8 it is not valid, and arrives as U+FFFD.)
});

test('usernames compare one way: the Kelvin sign does not log in as k, ASCII case does; registration takes ASCII only', async ({ harness, manager }) => {
  const created = await manager.post('/api/users', { username: 'kim-till', password: 'kim-password-1', role: 'auditor' });
  assert.is(created.statusCode, 201, created.body);
  const loginAs = (username: string) => harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'kim-password-1' } });
  assert.is((await loginAs('KIM-TILL')).statusCode, 200, 'ASCII case does not matter');
  const kelvin = '\u212Aim-till';
  assert.is(kelvin.toLowerCase(), 'kim-till', 'the Kelvin sign folds to k');
  await refused(harness, () => loginAs(kelvin), 401, { type: 'unauthorized' });
  await refused(harness, () => loginAs('kım-till'), 401);
  await refused(harness, () => manager.post('/api/users', { username: kelvin, password: 'kim-password-1', role: 'auditor' }), 400, { fields: ['username'], reason: /ASCII/ });
});

test('a body-less command refuses a body; a body in a type the route does not take is a 415', async ({ harness, manager }) => {
  const store = await manager.post('/api/stores', { name: 'Kept' });
  const url = `/api/stores/${store.json<{ id: string }>().id}`;
  await refused(harness, () => manager.request({ method: 'DELETE', url, payload: 'please', headers: { 'content-type': 'text/plain' } }), 415);
  await refused(harness, () => manager.request({ method: 'DELETE', url, payload: '{"force":true}', headers: { 'content-type': 'application/json' } }), 400, { fields: ['body'] });
  await refused(harness, () => manager.request({ method: 'POST', url: '/api/auth/logout', payload: 'bye', headers: { 'content-type': 'text/plain' } }), 415);
  await refused(harness, () => manager.request({ method: 'POST', url: '/api/stores', payload: 'name=Quay', headers: { 'content-type': 'text/plain' } }), 415);
  const still = await manager.get(url, { 'x-min-position': store.json<{ position: string }>().position });
  assert.is(still.statusCode, 200, `the store is still there: ${still.body}`);
});

test('a long path (414) and a huge query string (431) are problem+json too, over a real socket', async ({ harness, manager }) => {
  const address = await harness.app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${manager.token}` };
  const longPath = await fetch(`${address}/api/stores/${'a'.repeat(300)}`, { headers });
  assert.is(longPath.status, 414);
  assert.match(longPath.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.is(((await longPath.json()) as { status: number }).status, 414);
  const hugeQuery = await fetch(`${address}/api/stores?q=${'b'.repeat(40_000)}`, { headers });
  assert.is(hugeQuery.status, 431);
  assert.match(hugeQuery.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.is(((await hugeQuery.json()) as { status: number }).status, 431);
});

test.run();
