import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { ADMIN, type Harness, clientWithToken, login, seedStore, startHarness } from '../../support/app.js';

/** Two write-api replicas on one database: what one changes, the other honours. */
const test = suite<{ harness: Harness }>('HTTP: two replicas');

test.before(async (context) => {
  context.harness = await startHarness('replicas');
});
test.after(async ({ harness }) => harness.close());

test('a password change on one replica revokes old tokens on the other within a second; logout at once', async ({ harness }) => {
  const secret = 'test-secret-that-is-long-enough-for-hs256-0123456789';
  const other = await buildApp({ config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret }), pool: harness.db.pool, eventStore: harness.eventStore, jwtSecret: secret, logger: false });
  try {
    const manager = await login(harness, ADMIN.username, ADMIN.password);
    const { staff } = await seedStore(harness, manager);
    const viaOther = (token: string) => other.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
    const before = await viaOther(staff.token);
    assert.is(before.statusCode, 200, before.body);

    const changed = await staff.put('/api/auth/me/password', { currentPassword: 'staff-password-1', newPassword: 'staff-password-2' });
    assert.is(changed.statusCode, 200, changed.body);
    assert.is((await staff.get('/api/auth/me')).statusCode, 401, 'at once on the replica that wrote it');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.is((await viaOther(staff.token)).statusCode, 401, 'within a second on the other');

    const session = await login(harness, ADMIN.username, ADMIN.password);
    const fresh = await viaOther(session.token);
    assert.is(fresh.statusCode, 200, fresh.body);
    await session.post('/api/auth/logout');
    assert.is((await viaOther(session.token)).statusCode, 401, 'logout is immediate everywhere');
    assert.is((await clientWithToken(harness, manager.token).get('/api/auth/me')).statusCode, 200, 'other tokens live on');
  } finally {
    await other.close();
  }
});

test.run();
