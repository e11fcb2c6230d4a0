import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, clientWithToken, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertProblem, createUser, jwtClaims, refused, signJwt, stockNewSku, tamperedJwt, unique } from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
  staff: Client;
  staffId: string;
  auditor: Client;
  storeId: string;
  skuId: string;
  skuCode: string;
  itemUrl: string;
  otherStoreId: string;
  otherItemUrl: string;
}

const test = suite<Context>('HTTP: bad input is refused with a problem and writes nothing');

test.before(async (context) => {
  const harness = await startHarness('bad_input');
  context.harness = harness;
  context.manager = await login(harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
  const seeded = await seedStore(harness, context.manager, 10);
  Object.assign(context, { staff: seeded.staff, staffId: seeded.staffId, storeId: seeded.storeId, skuId: seeded.skuId, itemUrl: seeded.itemUrl });
  context.skuCode = unique('TEA-');
  const sku = await context.manager.post('/api/skus', { code: context.skuCode, name: 'Coded tea' });
  assert.is(sku.statusCode, 201, sku.body);
  const other = await context.manager.post('/api/stores', { name: 'Other store' });
  assert.is(other.statusCode, 201, other.body);
  context.otherStoreId = other.json<{ id: string }>().id;
  context.otherItemUrl = (await stockNewSku(context.manager, context.otherStoreId, 5)).itemUrl;
  const auditorName = unique('auditor');
  await createUser(context.manager, { username: auditorName, password: 'auditor-password-1', role: 'auditor' });
  context.auditor = await login(harness, auditorName, 'auditor-password-1');
});
test.after(async ({ harness }) => harness.close());

// ---------------------------------------------------------------- bodies

test('malformed JSON is 400 naming the body', async ({ harness, manager, itemUrl }) => {
  const post = await refused(
    harness,
    () => manager.request({ method: 'POST', url: '/api/stores', headers: { 'content-type': 'application/json' }, payload: '{"name": "Broken' }),
    400,
    { type: 'malformed-json', fields: ['body'] },
  );
  assert.not.match(post.detail, /something went wrong/i);
  await refused(
    harness,
    () => manager.request({ method: 'PATCH', url: itemUrl, headers: { 'content-type': 'application/json' }, payload: '{delta: -1}' }),
    400,
    { type: 'malformed-json', fields: ['body'] },
  );
});

test('an empty JSON body where one is required is 400, not 500', async ({ harness, manager }) => {
  await refused(
    harness,
    () => manager.request({ method: 'POST', url: '/api/stores', headers: { 'content-type': 'application/json' }, payload: '' }),
    400,
    { fields: ['body'] },
  );
});

test('a body of a media type with no parser is 415 naming the content type', async ({ harness, manager }) => {
  await refused(
    harness,
    () => manager.request({ method: 'POST', url: '/api/stores', headers: { 'content-type': 'application/xml' }, payload: '<store name="Shop"/>' }),
    415,
    { type: 'unsupported-media-type', fields: ['content-type'] },
  );
});

test('a plain-text body is 415 naming the content type (only JSON bodies are taken)', async ({ harness, manager }) => {
  await refused(
    harness,
    () => manager.request({ method: 'POST', url: '/api/stores', headers: { 'content-type': 'text/plain' }, payload: 'name=Shop' }),
    415,
    { type: 'unsupported-media-type', fields: ['content-type'] },
  );
});

test('an unknown field is 400 naming it', async ({ harness, manager, itemUrl }) => {
  const body = await refused(harness, () => manager.post('/api/stores', { name: 'Shop', colour: 'red' }), 400, {
    type: 'validation',
    fields: ['colour'],
    reason: /not a known field/,
  });
  assert.not.ok(body.errors?.some((error) => error.field === 'name'), 'a good field is not blamed');
  await refused(harness, () => manager.patch(itemUrl, { delta: -1, reason: 'sold', till: 3 }), 400, { type: 'validation', fields: ['till'] });
  await refused(harness, () => manager.post('/api/skus', { code: unique('X-'), name: 'X', colour: 'red', size: 'L' }), 400, {
    fields: ['colour', 'size'],
  });
});

test('wrong types are 400 naming each field', async ({ harness, manager, storeId, itemUrl }) => {
  await refused(harness, () => manager.post('/api/stores', { name: 42 }), 400, { type: 'validation', fields: ['name'] });
  const fresh = await manager.post('/api/skus', { code: unique('T-'), name: 'Typed' });
  const skuId = fresh.json<{ id: string }>().id;
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: '5' }), 400, { fields: ['quantity'] });
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId: 'not-a-uuid', quantity: 5 }), 400, {
    fields: ['skuId'],
  });
  await refused(harness, () => manager.patch(itemUrl, { delta: '-1', reason: 'sold' }), 400, { fields: ['delta'] });
  await refused(harness, () => manager.patch(itemUrl, { delta: -1, reason: 'stolen' }), 400, { fields: ['reason'] });
  await refused(harness, () => manager.patch(itemUrl, { countedQuantity: null }), 400, { fields: ['countedQuantity'] });
  await refused(harness, () => manager.post('/api/skus', { code: unique('P-'), name: 'Priced', price: 12.5 }), 400, { fields: ['price'] });
  await refused(harness, () => manager.post('/api/skus', { code: 'has space', name: 'Spaced' }), 400, { fields: ['code'] });
  await refused(harness, () => manager.post('/api/users', { username: unique('u'), password: 'long-enough-1', role: 'king' }), 400, {
    fields: ['role'],
  });
  await refused(harness, () => manager.post('/api/users', { username: unique('u'), password: 'short', role: 'staff' }), 400, {
    fields: ['password'],
  });
  await refused(harness, () => manager.post('/api/users', { username: unique('u'), password: 'long-enough-1', role: 'staff', email: 'nope' }), 400, {
    fields: ['email'],
  });
});

test('a negative quantity, count or threshold is 400 naming it', async ({ harness, manager, storeId, itemUrl }) => {
  const fresh = await manager.post('/api/skus', { code: unique('N-'), name: 'Negative' });
  const skuId = fresh.json<{ id: string }>().id;
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: -1 }), 400, { fields: ['quantity'] });
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 1, lowStockThreshold: -3 }), 400, {
    fields: ['lowStockThreshold'],
  });
  await refused(harness, () => manager.patch(itemUrl, { countedQuantity: -1 }), 400, { fields: ['countedQuantity'] });
  await refused(harness, () => manager.patch(itemUrl, { lowStockThreshold: -1 }), 400, { fields: ['lowStockThreshold'] });
  await refused(harness, () => manager.post('/api/skus', { code: unique('N-'), name: 'Negative', lowStockThreshold: -1 }), 400, {
    fields: ['lowStockThreshold'],
  });
});

test('a fractional quantity or delta is 400 naming it', async ({ harness, manager, storeId, itemUrl }) => {
  const fresh = await manager.post('/api/skus', { code: unique('F-'), name: 'Fraction' });
  const skuId = fresh.json<{ id: string }>().id;
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 1.5 }), 400, { fields: ['quantity'] });
  await refused(harness, () => manager.patch(itemUrl, { delta: -0.5, reason: 'sold' }), 400, { fields: ['delta'] });
  await refused(harness, () => manager.patch(itemUrl, { delta: 2.25, reason: 'received' }), 400, { fields: ['delta'] });
  await refused(harness, () => manager.patch(itemUrl, { countedQuantity: 7.1 }), 400, { fields: ['countedQuantity'] });
});

test('a delta of 0 is refused as an invalid delta', async ({ harness, manager, itemUrl }) => {
  await refused(harness, () => manager.patch(itemUrl, { delta: 0, reason: 'correction' }), 422, {
    type: 'invalid-delta',
    fields: ['delta'],
    reason: /zero/,
  });
});

test('a delta whose sign contradicts its reason is 422 invalid-delta', async ({ harness, manager, staff, itemUrl }) => {
  await refused(harness, () => staff.patch(itemUrl, { delta: 3, reason: 'sold' }), 422, { type: 'invalid-delta', fields: ['delta'], reason: /negative/ });
  await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'damaged' }), 422, { type: 'invalid-delta', fields: ['delta'] });
  await refused(harness, () => manager.patch(itemUrl, { delta: -2, reason: 'received' }), 422, { type: 'invalid-delta', fields: ['delta'], reason: /positive/ });
  await refused(harness, () => manager.patch(itemUrl, { delta: -2, reason: 'returned' }), 422, { type: 'invalid-delta', fields: ['delta'] });
});

test('a PATCH must be exactly one kind of change', async ({ harness, manager, itemUrl }) => {
  const both = await refused(harness, () => manager.patch(itemUrl, { delta: -1, reason: 'sold', countedQuantity: 4 }), 400, { type: 'validation' });
  assert.ok(both.errors && both.errors.length > 0, 'a field-by-field list');
  assert.match(both.detail, /exactly one/);
  assert.match(both.detail, /countedQuantity/);
  await refused(harness, () => manager.patch(itemUrl, { countedQuantity: 4, lowStockThreshold: 2 }), 400, { type: 'validation' });
  await refused(harness, () => manager.patch(itemUrl, {}), 400, { type: 'validation' });
  await refused(harness, () => manager.patch(itemUrl, { delta: -1 }), 400, { fields: ['reason'], reason: /required/ });
  await refused(harness, () => manager.patch(itemUrl, { reason: 'sold' }), 400, { fields: ['delta'], reason: /required/ });
  await refused(harness, () => manager.patch(itemUrl, { lowStockThreshold: 2, note: 'why' }), 400, { fields: ['note'] });
});

test('a body over 64 KiB is 413', async ({ harness, manager, itemUrl }) => {
  await refused(harness, () => manager.post('/api/stores', { name: 'Big', address: 'x'.repeat(65 * 1024) }), 413, {
    type: 'payload-too-large',
    fields: ['body'],
  });
  await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received', note: 'n'.repeat(100 * 1024) }), 413, { fields: ['body'] });
});

test('a text over its length limit is 400 naming it', async ({ harness, manager, itemUrl }) => {
  await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received', note: 'n'.repeat(501) }), 400, { fields: ['note'] });
  await refused(harness, () => manager.post('/api/stores', { name: '   ' }), 400, { fields: ['name'] });
});

// ---------------------------------------------------------------- ids

test('unknown store, SKU, item and user ids are 404', async ({ harness, manager, storeId, skuId }) => {
  const unknownStore = randomUUID();
  const unknownSku = randomUUID();
  const unknownUser = randomUUID();
  await refused(harness, () => manager.post(`/api/inventory/stores/${unknownStore}/items`, { skuId, quantity: 1 }), 404, { type: 'not-found' });
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId: unknownSku, quantity: 1 }), 404, { type: 'not-found' });
  await refused(harness, () => manager.patch(`/api/inventory/stores/${storeId}/items/${unknownSku}`, { delta: 1, reason: 'received' }), 404, {
    type: 'not-found',
  });
  await refused(harness, () => manager.patch(`/api/inventory/stores/${unknownStore}/items/${skuId}`, { countedQuantity: 1 }), 404, { type: 'not-found' });
  await refused(harness, () => manager.delete(`/api/inventory/stores/${storeId}/items/${unknownSku}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.patch(`/api/stores/${unknownStore}`, { name: 'Nowhere' }), 404, { type: 'not-found' });
  await refused(harness, () => manager.delete(`/api/stores/${unknownStore}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.patch(`/api/skus/${unknownSku}`, { name: 'Nothing' }), 404, { type: 'not-found' });
  await refused(harness, () => manager.delete(`/api/skus/${unknownSku}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.get(`/api/users/${unknownUser}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.patch(`/api/users/${unknownUser}`, { displayName: 'Nobody' }), 404, { type: 'not-found' });
  await refused(harness, () => manager.patch(`/api/users/${unknownUser}`, { role: 'auditor' }), 404, { type: 'not-found' });
  await refused(harness, () => manager.put(`/api/users/${unknownUser}/stores`, { storeIds: [] }), 404, { type: 'not-found' });
  await refused(harness, () => manager.delete(`/api/users/${unknownUser}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.get(`/api/inventory/stores/${storeId}/items/${unknownSku}/history`), 404, { type: 'not-found' });
});

test('a non-UUID id in the path is 400 naming the parameter', async ({ harness, manager, storeId, skuId }) => {
  await refused(harness, () => manager.patch('/api/stores/not-a-uuid', { name: 'X' }), 400, { type: 'validation', fields: ['params.id'] });
  await refused(harness, () => manager.delete('/api/skus/12345'), 400, { fields: ['params.id'] });
  await refused(harness, () => manager.get('/api/users/admin'), 400, { fields: ['params.id'] });
  await refused(harness, () => manager.delete('/api/users/admin'), 400, { fields: ['params.id'] });
  await refused(harness, () => manager.patch(`/api/inventory/stores/shop-1/items/${skuId}`, { delta: 1, reason: 'received' }), 400, {
    fields: ['params.storeId'],
  });
  await refused(harness, () => manager.patch(`/api/inventory/stores/${storeId}/items/tea`, { delta: 1, reason: 'received' }), 400, {
    fields: ['params.skuId'],
  });
  await refused(harness, () => manager.post('/api/inventory/stores/nope/items', { skuId, quantity: 1 }), 400, { fields: ['params.storeId'] });
});

test('an unknown route is a 404 problem', async ({ harness, manager }) => {
  await refused(harness, () => manager.post('/api/warehouses', { name: 'X' }), 404, { type: 'route-not-found' });
});

// ---------------------------------------------------------------- tokens

test('no token is 401 and writes nothing', async ({ harness }) => {
  await refused(harness, () => harness.app.inject({ method: 'POST', url: '/api/stores', payload: { name: 'Anonymous' } }), 401, {
    type: 'unauthorized',
  });
  await refused(harness, () => harness.app.inject({ method: 'GET', url: '/api/auth/me' }), 401);
  await refused(
    harness,
    () => harness.app.inject({ method: 'POST', url: '/api/stores', payload: { name: 'Basic' }, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }),
    401,
  );
});

test('a token signed with another secret is 401', async ({ harness, manager, managerId }) => {
  const claims = jwtClaims(manager.token);
  const forged = clientWithToken(harness, signJwt({ ...claims, sub: managerId }, 'another-secret-that-is-long-enough-0123456789'));
  await refused(harness, () => forged.post('/api/stores', { name: 'Forged' }), 401, { type: 'unauthorized' });
  await refused(harness, () => forged.get('/api/auth/me'), 401);
  const unsigned = clientWithToken(harness, signJwt(claims, '', { alg: 'none', typ: 'JWT' }).replace(/[^.]+$/, ''));
  await refused(harness, () => unsigned.post('/api/stores', { name: 'Unsigned' }), 401);
});

test('a token whose payload was edited is 401', async ({ harness, staff, managerId, otherStoreId }) => {
  // The staff member's own token, edited to claim the manager's identity.
  const edited = clientWithToken(harness, tamperedJwt(staff.token, { sub: managerId, role: 'manager' }));
  await refused(harness, () => edited.post('/api/stores', { name: 'Escalated' }), 401, { type: 'unauthorized' });
  await refused(harness, () => edited.post(`/api/inventory/stores/${otherStoreId}/items`, { skuId: randomUUID(), quantity: 1 }), 401);
  const extended = clientWithToken(harness, tamperedJwt(staff.token, { exp: Math.floor(Date.now() / 1000) + 365 * 24 * 3600 }));
  await refused(harness, () => extended.get('/api/auth/me'), 401);
});

test('an expired token is 401 saying so, while the same claims unexpired pass', async ({ harness, manager, managerId }) => {
  const { cv } = jwtClaims(manager.token);
  const now = Math.floor(Date.now() / 1000);
  const live = clientWithToken(harness, harness.app.jwt.sign({ sub: managerId, jti: randomUUID(), cv, iat: now - 60, exp: now + 60 }));
  assert.is((await live.get('/api/auth/me')).statusCode, 200, 'the control token is accepted');
  const expired = clientWithToken(harness, harness.app.jwt.sign({ sub: managerId, jti: randomUUID(), cv, iat: now - 120, exp: now - 60 }));
  const problem = await refused(harness, () => expired.post('/api/stores', { name: 'Too late' }), 401, { type: 'unauthorized' });
  assert.match(problem.detail, /expired/i);
});

test('a well-signed token of an unknown user, or without its claims, is 401', async ({ harness, managerId }) => {
  const now = Math.floor(Date.now() / 1000);
  const ghost = clientWithToken(harness, harness.app.jwt.sign({ sub: randomUUID(), jti: randomUUID(), cv: 0, exp: now + 60 }));
  await refused(harness, () => ghost.post('/api/stores', { name: 'Ghost' }), 401);
  const bare = clientWithToken(harness, harness.app.jwt.sign({ sub: managerId, exp: now + 60 }));
  await refused(harness, () => bare.post('/api/stores', { name: 'Bare' }), 401);
  const staleVersion = clientWithToken(harness, harness.app.jwt.sign({ sub: managerId, jti: randomUUID(), cv: 7, exp: now + 60 }));
  await refused(harness, () => staleVersion.post('/api/stores', { name: 'Stale' }), 401);
});

// ---------------------------------------------------------------- roles

test('staff cannot touch the stock of a store they are not assigned to (403)', async ({ harness, staff, otherStoreId, otherItemUrl, skuId }) => {
  await refused(harness, () => staff.patch(otherItemUrl, { delta: -1, reason: 'sold' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.patch(otherItemUrl, { countedQuantity: 0 }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.post(`/api/inventory/stores/${otherStoreId}/items`, { skuId, quantity: 1 }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.delete(otherItemUrl), 403, { type: 'forbidden' });
  await refused(harness, () => staff.get(`${otherItemUrl}/history`), 403, { type: 'forbidden' });
});

test('an auditor writes nothing (403)', async ({ harness, auditor, itemUrl, storeId, skuId, staffId }) => {
  await refused(harness, () => auditor.patch(itemUrl, { delta: -1, reason: 'sold' }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.patch(itemUrl, { lowStockThreshold: 1 }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.delete(itemUrl), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 1 }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.post('/api/stores', { name: 'Audited' }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.patch(`/api/stores/${storeId}`, { name: 'Audited' }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.post('/api/skus', { code: unique('A-'), name: 'Audited' }), 403, { type: 'forbidden' });
  await refused(harness, () => auditor.post('/api/users', { username: unique('u'), password: 'long-enough-1', role: 'manager' }), 403, {
    type: 'forbidden',
  });
  await refused(harness, () => auditor.patch(`/api/users/${staffId}`, { role: 'manager' }), 403, { type: 'forbidden' });
});

test('staff cannot manage stores, SKUs or users (403), not even themselves', async ({ harness, staff, staffId, storeId, skuId, otherStoreId, managerId }) => {
  await refused(harness, () => staff.post('/api/stores', { name: 'Mine' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.patch(`/api/stores/${storeId}`, { name: 'Renamed' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.delete(`/api/stores/${storeId}`), 403, { type: 'forbidden' });
  await refused(harness, () => staff.post('/api/skus', { code: unique('S-'), name: 'Staff SKU' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.patch(`/api/skus/${skuId}`, { name: 'Renamed' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.delete(`/api/skus/${skuId}`), 403, { type: 'forbidden' });
  await refused(harness, () => staff.post('/api/users', { username: unique('u'), password: 'long-enough-1', role: 'staff' }), 403, {
    type: 'forbidden',
  });
  await refused(harness, () => staff.patch(`/api/users/${staffId}`, { role: 'manager' }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.put(`/api/users/${staffId}/stores`, { storeIds: [storeId, otherStoreId] }), 403, { type: 'forbidden' });
  await refused(harness, () => staff.delete(`/api/users/${managerId}`), 403, { type: 'forbidden' });
  await refused(harness, () => staff.get(`/api/users/${managerId}`), 403, { type: 'forbidden' });
});

// ---------------------------------------------------------------- headers and queries

test('an invalid If-Match is 400 naming the header', async ({ harness, manager, itemUrl, storeId }) => {
  for (const ifMatch of ['abc', '"-1"', '"1.5"', '"1", "2"']) {
    await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received' }, { 'if-match': ifMatch }), 400, {
      type: 'validation',
      fields: ['headers.if-match'],
    });
  }
  await refused(harness, () => manager.patch(`/api/stores/${storeId}`, { name: 'X' }, { 'if-match': 'yesterday' }), 400, {
    fields: ['headers.if-match'],
  });
});

test('an invalid Idempotency-Key is 400 naming the header', async ({ harness, manager, itemUrl }) => {
  await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received' }, { 'idempotency-key': 'has a space' }), 400, {
    fields: ['headers.idempotency-key'],
  });
  await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received' }, { 'idempotency-key': 'k'.repeat(256) }), 400, {
    fields: ['headers.idempotency-key'],
  });
});

test('a history limit out of range, or a bad cursor, is 400 naming the query field', async ({ harness, manager, itemUrl }) => {
  for (const limit of ['0', '1001', '-5', 'ten', '2.5']) {
    await refused(harness, () => manager.get(`${itemUrl}/history?limit=${limit}`), 400, { type: 'validation', fields: ['query.limit'] });
  }
  await refused(harness, () => manager.get(`${itemUrl}/history?cursor=abc`), 400, { fields: ['query.cursor'] });
  await refused(harness, () => manager.get(`${itemUrl}/history?colour=red`), 400, { fields: ['query.colour'] });
  assert.is((await manager.get(`${itemUrl}/history?limit=1000`)).statusCode, 200, 'the upper bound itself is accepted');
});

// ---------------------------------------------------------------- rules

test('selling more than is in stock is 409 with what is available and what was asked', async ({ harness, staff, itemUrl }) => {
  const problem = await refused(harness, () => staff.patch(itemUrl, { delta: -11, reason: 'sold' }), 409, { type: 'insufficient-stock' });
  assert.is(problem.available, 10);
  assert.is(problem.requested, 11);
  const damaged = await refused(harness, () => staff.patch(itemUrl, { delta: -1000, reason: 'damaged' }), 409, { type: 'insufficient-stock' });
  assert.is(damaged.available, 10);
  assert.is(damaged.requested, 1000);
});

test('adding a SKU a store already stocks is 409 naming skuId', async ({ harness, manager, staff, storeId, skuId }) => {
  await refused(harness, () => manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 3 }), 409, {
    type: 'item-already-in-store',
    fields: ['skuId'],
  });
  await refused(harness, () => staff.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 0 }), 409, { type: 'item-already-in-store' });
});

test('a duplicate username is 409 naming username, whatever its case', async ({ harness, manager }) => {
  await refused(harness, () => manager.post('/api/users', { username: ADMIN.username, password: 'long-enough-1', role: 'staff' }), 409, {
    type: 'already-exists',
    fields: ['username'],
  });
  await refused(harness, () => manager.post('/api/users', { username: ADMIN.username.toUpperCase(), password: 'long-enough-1', role: 'staff' }), 409, {
    type: 'already-exists',
    fields: ['username'],
  });
});

test('a duplicate SKU code is 409 naming code, whatever its case', async ({ harness, manager, skuCode }) => {
  await refused(harness, () => manager.post('/api/skus', { code: skuCode, name: 'Again' }), 409, { type: 'already-exists', fields: ['code'] });
  await refused(harness, () => manager.post('/api/skus', { code: skuCode.toLowerCase(), name: 'Again' }), 409, { type: 'already-exists', fields: ['code'] });
});

test('assigning a user to a store that does not exist is 422 naming the store', async ({ harness, manager, staffId, storeId }) => {
  const missing = randomUUID();
  const created = await refused(
    harness,
    () => manager.post('/api/users', { username: unique('u'), password: 'long-enough-1', role: 'staff', storeIds: [missing] }),
    422,
    { fields: ['storeIds.0'] },
  );
  assert.match(created.detail, new RegExp(missing));
  await refused(harness, () => manager.put(`/api/users/${staffId}/stores`, { storeIds: [storeId, missing] }), 422, { fields: ['storeIds.1'] });
});

test('the refusals above did not change the item', async ({ manager, itemUrl }) => {
  // Control: the item still holds its starting 10 (bad requests moved nothing), and a good request still works.
  const ok = await manager.patch(itemUrl, { delta: -1, reason: 'sold' });
  assert.is(ok.statusCode, 200, ok.body);
  assert.is(ok.json<{ quantity: number }>().quantity, 9);
  assertProblem(await manager.patch(itemUrl, { delta: -10, reason: 'sold' }), 409, { type: 'insufficient-stock' });
});

test.run();
