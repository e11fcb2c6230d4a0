import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { LastManager } from '../../../src/shared/domain-errors.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { users } from '../../../src/write/aggregates.js';
import { CommandHandler } from '../../../src/write/command-handler.js';
import { ManagerRosterKeeper } from '../../../src/write/manager-roster/roster.js';
import { restoreManager } from '../../../src/write/restore-manager.js';
import { userStream } from '../../../src/write/streams.js';
import { ADMIN, type Client, clientWithToken, type Harness, login, startHarness } from '../../support/app.js';

/** No change through the API leaves no manager; the operator has a way back in all the same. */
const test = suite<{ harness: Harness }>('HTTP: the last manager');

test.before(async (context) => {
  context.harness = await startHarness('lastmgr');
});
test.after(async ({ harness }) => harness.close());

const me = async (client: Client) => (await client.get('/api/auth/me')).json<{ id: string; role: string }>();

async function newManager(harness: Harness, admin: Client, username: string): Promise<Client & { id: string }> {
  const created = await admin.post('/api/users', { username, password: 'manager-password-1', role: 'manager' });
  assert.is(created.statusCode, 201, created.body);
  return { ...(await login(harness, username, 'manager-password-1')), id: created.json<{ id: string }>().id };
}

test('the only manager can neither demote nor delete itself; with a second one, demotion works', async ({ harness }) => {
  const admin = await login(harness, ADMIN.username, ADMIN.password);
  const adminId = (await me(admin)).id;
  const demoted = await admin.patch(`/api/users/${adminId}`, { role: 'staff' });
  assert.is(demoted.statusCode, 409, demoted.body);
  assert.is(demoted.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.match(demoted.json<{ type: string }>().type, /last-manager/);
  assert.is((await admin.delete(`/api/users/${adminId}`)).statusCode, 403);
  assert.is((await me(admin)).role, 'manager', 'nothing was written');

  const second = await newManager(harness, admin, 'second-manager');
  const auditor = await second.patch(`/api/users/${second.id}`, { role: 'auditor' });
  assert.is(auditor.statusCode, 200, auditor.body);
  // Back to one manager: the admin still cannot leave, and a restored second can again.
  assert.is((await admin.patch(`/api/users/${adminId}`, { role: 'staff' })).statusCode, 409);
  assert.is((await admin.patch(`/api/users/${second.id}`, { role: 'manager' })).statusCode, 200);
  const deleted = await admin.delete(`/api/users/${second.id}`);
  assert.is(deleted.statusCode, 200, deleted.body);
  assert.is((await admin.patch(`/api/users/${adminId}`, { role: 'staff' })).statusCode, 409);
});

test('two managers demoting each other at once on two replicas: one is refused, one manager remains', async ({ harness }) => {
  const secret = 'test-secret-that-is-long-enough-for-hs256-0123456789';
  const other = await buildApp({ config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret }), pool: harness.db.pool, eventStore: harness.eventStore, jwtSecret: secret, logger: false });
  try {
    const admin = await login(harness, ADMIN.username, ADMIN.password);
    const adminId = (await me(admin)).id;
    for (let round = 0; round < 3; round += 1) {
      const ann = await newManager(harness, admin, `ann-${round}`);
      const ben = await newManager(harness, admin, `ben-${round}`);
      // The admin steps down to staff so that Ann and Ben are the only managers.
      assert.is((await admin.patch(`/api/users/${adminId}`, { role: 'staff' })).statusCode, 200);
      const benOnOther = clientWithToken({ ...harness, app: other }, ben.token);
      const [annDemotesBen, benDemotesAnn] = await Promise.all([
        ann.patch(`/api/users/${ben.id}`, { role: 'staff' }),
        benOnOther.patch(`/api/users/${ann.id}`, { role: 'staff' }),
      ]);
      // The loser is refused by the roster (409), or, when the winner's write came first, is no manager any more (403).
      const statuses = [annDemotesBen.statusCode, benDemotesAnn.statusCode];
      assert.is(statuses.filter((status) => status === 200).length, 1, `${annDemotesBen.body} ${benDemotesAnn.body}`);
      assert.ok(statuses.every((status) => [200, 403, 409].includes(status)), `${annDemotesBen.body} ${benDemotesAnn.body}`);
      const remaining = annDemotesBen.statusCode === 200 ? ann : ben;
      assert.is((await me(remaining)).role, 'manager');
      // The one left brings the admin back, and steps down for the next round.
      assert.is((await remaining.patch(`/api/users/${adminId}`, { role: 'manager' })).statusCode, 200);
      assert.is((await admin.patch(`/api/users/${remaining.id}`, { role: 'staff' })).statusCode, 200);
    }
  } finally {
    await other.close();
  }
});

test('two processes removing the last two managers at once, each on the roster it saw: one is refused', async ({ harness }) => {
  const context = { actor: null, correlationId: 'race', now: new Date() };
  const stores = [harness.eventStore, new PostgresEventStore(harness.db.pool)];
  const admin = await login(harness, ADMIN.username, ADMIN.password);
  const ann = await newManager(harness, admin, 'race-ann');
  const ben = await newManager(harness, admin, 'race-ben');
  await admin.delete(`/api/users/${(await newManager(harness, admin, 'race-spare')).id}`);
  // Leave Ann and Ben as the only managers on the roster.
  const keeperOf = (index: number) => new ManagerRosterKeeper(new CommandHandler(stores[index]!), stores[index]!);
  await keeperOf(0).removing((await me(admin)).id, context);
  for (let round = 0; round < 5; round += 1) {
    const [first, second] = [keeperOf(0), keeperOf(1)];
    const outcomes = await Promise.allSettled([first.removing(ann.id, context), second.removing(ben.id, context)]);
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.is(refused.length, 1, JSON.stringify(outcomes));
    assert.instance((refused[0] as PromiseRejectedResult).reason, LastManager);
    // Put the one removed back for the next round.
    const removed = outcomes[0]?.status === 'fulfilled' ? ann.id : ben.id;
    await first.added(removed, context);
  }
  await keeperOf(0).added((await me(admin)).id, context);
});

test('locked out anyway (no manager left by older releases): the operator restores one with the server settings', async ({ harness }) => {
  const admin = await login(harness, ADMIN.username, ADMIN.password);
  const adminId = (await me(admin)).id;
  // What the API refuses, written straight to the event store, as a release before the rule could.
  await harness.app.commands.handle(users, userStream(adminId), { type: 'ChangeRole', userId: adminId, role: 'staff' }, { actor: null, correlationId: 'lockout', now: new Date() });
  const locked = await login(harness, ADMIN.username, ADMIN.password);
  assert.is((await locked.post('/api/stores', { name: 'Locked out' })).statusCode, 403);

  const restored = await restoreManager(harness.app.commands, harness.eventStore, ADMIN.username, { resetPassword: true });
  assert.is(restored.outcome, 'promoted');
  assert.ok(restored.password);
  const back = await login(harness, ADMIN.username, restored.password);
  const opened = await back.post('/api/stores', { name: 'Back in' });
  assert.is(opened.statusCode, 201, opened.body);
  assert.is((await admin.get('/api/auth/me')).statusCode, 401, 'the new password revoked the old tokens');

  const created = await restoreManager(harness.app.commands, harness.eventStore, 'operator');
  assert.is(created.outcome, 'created');
  const operator = await login(harness, 'operator', created.password ?? '');
  assert.is((await me(operator)).role, 'manager');
});

test.run();
