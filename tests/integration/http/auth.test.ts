import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertProblem, assertWritten, createUser, refused, sleep, stockNewSku, unique } from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
  storeId: string;
  itemUrl: string;
  staff: Client;
  staffId: string;
}

/** One login attempt, answered as it is (no assumption that it succeeds). */
const attempt = (harness: Harness, username: string, password: string, remoteAddress?: string) =>
  harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, ...(remoteAddress ? { remoteAddress } : {}) });

const test = suite<Context>('HTTP: login, logout, revocation and roles');

test.before(async (context) => {
  // Many logins from one address here: the limit is not what this suite is about.
  context.harness = await startHarness('auth', { LOGIN_RATE_LIMIT: '1000' });
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
  const seeded = await seedStore(context.harness, context.manager, 10);
  Object.assign(context, { storeId: seeded.storeId, itemUrl: seeded.itemUrl, staff: seeded.staff, staffId: seeded.staffId });
});
test.after(async ({ harness }) => harness.close());

test('login answers a token, its expiry and the user without the hash', async ({ harness, managerId }) => {
  const before = Date.now();
  const response = await attempt(harness, ADMIN.username, ADMIN.password);
  assert.is(response.statusCode, 200, response.body);
  const body = response.json<{ token: string; expiresAt: string; user: Record<string, unknown> }>();
  assert.match(body.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const expiresAt = Date.parse(body.expiresAt);
  assert.ok(expiresAt > before + 7 * 3600_000 && expiresAt <= Date.now() + 8 * 3600_000 + 1000, `8 h by default: ${body.expiresAt}`);
  assert.is(body.user.id, managerId);
  assert.is(body.user.role, 'manager');
  assert.not.ok('passwordHash' in body.user);
  assert.not.match(response.body, /scrypt\$/);
});

test('a wrong password and an unknown user are both 401 problems, alike', async ({ harness }) => {
  const wrong = await refused(harness, () => attempt(harness, ADMIN.username, 'not-the-password'), 401, { type: 'unauthorized' });
  const unknown = await refused(harness, () => attempt(harness, unique('nobody'), 'whatever-password'), 401, { type: 'unauthorized' });
  assert.is(unknown.detail, wrong.detail, 'the answer does not tell which names exist');
  assert.not.ok('token' in wrong);
  await refused(harness, () => attempt(harness, ADMIN.username.toUpperCase(), 'not-the-password'), 401);
  await refused(harness, () => harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: ADMIN.username } }), 400, {
    fields: ['password'],
  });
});

test('logout is 204 and the token is refused at once on every route, even after a restart', async ({ harness, manager, itemUrl }) => {
  const session = await login(harness, ADMIN.username, ADMIN.password);
  assert.is((await session.get('/api/auth/me')).statusCode, 200, 'works before logout');
  const out = await session.post('/api/auth/logout');
  assert.is(out.statusCode, 204);
  assert.is(out.body, '');

  const revoked = await refused(harness, () => session.get('/api/auth/me'), 401, { type: 'unauthorized' });
  assert.match(revoked.detail, /revoked/);
  await refused(harness, () => session.post('/api/stores', { name: 'After logout' }), 401);
  await refused(harness, () => session.patch(itemUrl, { delta: 1, reason: 'received' }), 401);
  await refused(harness, () => session.get(`${itemUrl}/history`), 401);
  await refused(harness, () => session.post('/api/auth/logout'), 401);
  assert.is((await manager.get('/api/auth/me')).statusCode, 200, 'another token of the same user still works');

  await harness.restart();
  await refused(harness, () => session.get('/api/auth/me'), 401);
  await refused(harness, () => session.post('/api/stores', { name: 'After restart' }), 401);
  assert.is((await manager.get('/api/auth/me')).statusCode, 200, 'the other token survives the restart');
});

test('a password change revokes every earlier token of that user; the new password logs in', async ({ harness, manager, storeId }) => {
  const username = unique('pat');
  await createUser(manager, { username, password: 'old-password-1', role: 'staff', storeIds: [storeId] });
  const one = await login(harness, username, 'old-password-1');
  const two = await login(harness, username, 'old-password-1');

  const changed = await one.put('/api/auth/me/password', { currentPassword: 'old-password-1', newPassword: 'new-password-2' });
  assertWritten(changed);
  for (const client of [one, two]) {
    await refused(harness, () => client.get('/api/auth/me'), 401, { type: 'unauthorized' });
  }
  await refused(harness, () => attempt(harness, username, 'old-password-1'), 401);
  const fresh = await login(harness, username, 'new-password-2');
  const me = await fresh.get('/api/auth/me');
  assert.is(me.statusCode, 200);
  assert.is(me.json<{ username: string }>().username, username);
  assert.is((await manager.get('/api/auth/me')).statusCode, 200, 'other users keep their tokens');
});

test('a wrong current password is 422 naming currentPassword and changes nothing', async ({ harness, staff }) => {
  await refused(harness, () => staff.put('/api/auth/me/password', { currentPassword: 'not-it-at-all', newPassword: 'whatever-new-1' }), 422, {
    fields: ['currentPassword'],
  });
  await refused(harness, () => staff.put('/api/auth/me/password', { currentPassword: 'staff-password-1', newPassword: 'short' }), 400, {
    fields: ['newPassword'],
  });
  await refused(harness, () => staff.put('/api/auth/me/password', { newPassword: 'whatever-new-1' }), 400, { fields: ['currentPassword'] });
  assert.is((await staff.get('/api/auth/me')).statusCode, 200, 'the token still works');
});

test('deleting an account revokes its tokens and frees its username', async ({ harness, manager }) => {
  const username = unique('dora');
  const oldId = await createUser(manager, { username, password: 'dora-password-1', role: 'staff' });
  const dora = await login(harness, username, 'dora-password-1');

  const deleted = assertWritten(await manager.delete(`/api/users/${oldId}`));
  assert.is(deleted.id, oldId);
  await refused(harness, () => dora.get('/api/auth/me'), 401, { type: 'unauthorized' });
  await refused(harness, () => attempt(harness, username, 'dora-password-1'), 401);
  await refused(harness, () => manager.get(`/api/users/${oldId}`), 404, { type: 'not-found' });
  await refused(harness, () => manager.delete(`/api/users/${oldId}`), 404, { type: 'not-found' });

  const newId = await createUser(manager, { username, password: 'dora-password-2', role: 'auditor' });
  assert.is.not(newId, oldId);
  const again = await login(harness, username, 'dora-password-2');
  const me = (await again.get('/api/auth/me')).json<{ id: string; role: string }>();
  assert.is(me.id, newId);
  assert.is(me.role, 'auditor');
  await refused(harness, () => dora.get('/api/auth/me'), 401, { type: 'unauthorized' });
});

test('a manager cannot delete themselves (403)', async ({ harness, manager, managerId }) => {
  await refused(harness, () => manager.delete(`/api/users/${managerId}`), 403, { type: 'forbidden' });
  assert.is((await manager.get('/api/auth/me')).statusCode, 200);
});

test('a role change takes effect on the next request', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const username = unique('mona');
  const monaId = await createUser(manager, { username, password: 'mona-password-1', role: 'manager' });
  const mona = await login(harness, username, 'mona-password-1');
  assertWritten(await mona.post('/api/stores', { name: 'Mona opens' }), 201);

  const demoted = assertWritten(await manager.patch(`/api/users/${monaId}`, { role: 'staff' }));
  assert.is(demoted.role, 'staff');
  await refused(harness, () => mona.post('/api/stores', { name: 'Mona again' }), 403, { type: 'forbidden' });
  await refused(harness, () => mona.patch(itemUrl, { delta: -1, reason: 'sold' }), 403, { type: 'forbidden' });
  await refused(harness, () => mona.post('/api/users', { username: unique('x'), password: 'long-enough-1', role: 'manager' }), 403);

  assertWritten(await manager.put(`/api/users/${monaId}/stores`, { storeIds: [storeId] }));
  assertWritten(await mona.patch(itemUrl, { delta: -1, reason: 'sold' }));

  assertWritten(await manager.patch(`/api/users/${monaId}`, { role: 'auditor' }));
  await refused(harness, () => mona.patch(itemUrl, { delta: -1, reason: 'sold' }), 403);
  assert.is((await mona.get(`${itemUrl}/history`)).statusCode, 200, 'an auditor reads');

  assertWritten(await manager.patch(`/api/users/${monaId}`, { role: 'manager' }));
  assertWritten(await mona.post('/api/stores', { name: 'Mona is back' }), 201);
});

test('a user reads their own record; another staff member may not (403)', async ({ harness, manager, staff, staffId, storeId }) => {
  const own = await staff.get(`/api/users/${staffId}`);
  assert.is(own.statusCode, 200, own.body);
  const body = own.json<{ id: string; role: string; storeIds: string[]; revision: number }>();
  assert.is(body.id, staffId);
  assert.equal(body.storeIds, [storeId]);
  assert.is(own.headers.etag, `"${body.revision}"`);
  assert.not.ok('passwordHash' in body);

  const username = unique('colleague');
  const colleagueId = await createUser(manager, { username, password: 'colleague-password-1', role: 'staff', storeIds: [storeId] });
  const colleague = await login(harness, username, 'colleague-password-1');
  await refused(harness, () => colleague.get(`/api/users/${staffId}`), 403, { type: 'forbidden' });
  await refused(harness, () => staff.get(`/api/users/${colleagueId}`), 403, { type: 'forbidden' });
  assert.is((await manager.get(`/api/users/${colleagueId}`)).statusCode, 200);
});

test('PATCH /api/auth/me changes one’s own profile, not one’s role', async ({ harness, staff }) => {
  const changed = assertWritten(await staff.patch('/api/auth/me', { displayName: 'Sam the Staff', email: 'sam@example.com' }));
  assert.is(changed.displayName, 'Sam the Staff');
  assert.is(changed.email, 'sam@example.com');
  await refused(harness, () => staff.patch('/api/auth/me', { role: 'manager' }), 400, { fields: ['role'] });
  assert.is((await staff.get('/api/auth/me')).json<{ role: string }>().role, 'staff');
});

test.run();

// ---------------------------------------------------------------- limits and expiry

interface LimitsContext {
  harness: Harness;
}

const limits = suite<LimitsContext>('HTTP: login rate limit and token expiry');

limits.before(async (context) => {
  context.harness = await startHarness('auth_limits', { LOGIN_RATE_LIMIT: '3', TOKEN_TTL_SECONDS: '2' });
});
limits.after(async ({ harness }) => harness.close());

limits('a token expires after TOKEN_TTL_SECONDS', async ({ harness }) => {
  // From an address of its own, so that this login counts toward no other test's limit.
  const response = await attempt(harness, ADMIN.username, ADMIN.password, '10.9.8.7');
  assert.is(response.statusCode, 200, response.body);
  const { token, expiresAt } = response.json<{ token: string; expiresAt: string }>();
  const expiry = Date.parse(expiresAt);
  assert.ok(expiry - Date.now() <= 2000 && expiry - Date.now() > 0, `expires within 2 s: ${expiresAt}`);
  const me = () => harness.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
  assert.is((await me()).statusCode, 200, 'valid until then');
  await sleep(expiry - Date.now() + 1100);
  const problem = assertProblem(await me(), 401, { type: 'unauthorized' });
  assert.match(problem.detail, /expired/i);
});

limits('the 4th failed login in a minute for one username is 429; another username is still 401', async ({ harness }) => {
  const target = unique('victim');
  for (let index = 1; index <= 3; index += 1) {
    assertProblem(await attempt(harness, target, `wrong-password-${index}`), 401, { type: 'unauthorized' });
  }
  let headers: Record<string, unknown> = {};
  const limited = await refused(
    harness,
    async () => {
      const response = await attempt(harness, target, 'wrong-password-4');
      headers = response.headers;
      return response;
    },
    429,
  );
  assert.match(limited.title, /too many/i);
  assert.ok(limited.type !== '/problems/internal');
  assert.match(String(headers['retry-after']), /^\d+$/, 'Retry-After tells when to try again');
  // Further attempts wait out the window too.
  assertProblem(await attempt(harness, target, 'wrong-password-5'), 429);

  const bystander = await attempt(harness, unique('bystander'), 'wrong-password-1');
  assert.is(bystander.statusCode, 401, `another username is not limited: ${bystander.statusCode} ${bystander.body}`);
  assertProblem(bystander, 401, { type: 'unauthorized' });
  const admin = await attempt(harness, ADMIN.username, ADMIN.password);
  assert.is(admin.statusCode, 200, `the first manager can still log in: ${admin.statusCode} ${admin.body}`);
});

limits('the limit is per username regardless of case', async ({ harness }) => {
  const target = unique('casey');
  for (const name of [target, target.toUpperCase(), target]) {
    assertProblem(await attempt(harness, name, 'wrong-password', '10.1.1.1'), 401);
  }
  assertProblem(await attempt(harness, target.toUpperCase(), 'wrong-password', '10.1.1.1'), 429);
});

limits.run();
