import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { newId } from '../../src/shared/ids.js';
import { reservations, users } from '../../src/write/aggregates.js';
import { CommandHandler } from '../../src/write/command-handler.js';
import { ensureFirstManager } from '../../src/write/first-manager.js';
import { userStream, usernameReservationStream } from '../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Write APIs starting together on an empty database: each command handler stands for one process. */
const test = suite<{ db: TestDatabase; store: PostgresEventStore }>('first manager: write APIs starting together');

test.before(async (context) => {
  context.db = await createTestDatabase('first_manager');
  context.store = new PostgresEventStore(context.db.pool);
});
test.after(async ({ db }) => db.drop());

const settings = (username: string) => ({ username, password: 'first-manager-password-1' });

test('the one that finds the name held by a winner still registering comes up too', async ({ store }) => {
  // The winner has reserved the name and is about to register its user (played here step by step).
  const username = `admin${newId().slice(-6)}`;
  const winner = new CommandHandler(store);
  const ownerId = newId();
  await winner.handle(reservations, usernameReservationStream(username), { type: 'Reserve', value: username, ownerId, field: 'username' }, { actor: null, correlationId: 'test', now: new Date() });
  // Two others start now: both take the "finish the job" path for the same user.
  const started = await Promise.allSettled([ensureFirstManager(new CommandHandler(store), settings(username)), ensureFirstManager(new CommandHandler(store), settings(username))]);
  for (const start of started) assert.is(start.status, 'fulfilled', start.status === 'rejected' ? String(start.reason) : '');
  const created = started.filter((start) => start.status === 'fulfilled' && start.value.created);
  assert.is(created.length, 1, 'one of them registered the user');
  const user = await new CommandHandler(store).load(users, userStream(ownerId));
  assert.is(user.revision, 0, 'one user, registered once');
  assert.is(user.state.status === 'active' && user.state.role, 'manager');
});

test('four starts at once on an empty database all come up, with one manager', async ({ store }) => {
  for (let round = 0; round < 5; round += 1) {
    const username = `admin${newId().slice(-6)}`;
    const started = await Promise.allSettled(Array.from({ length: 4 }, () => ensureFirstManager(new CommandHandler(store), settings(username))));
    for (const start of started) assert.is(start.status, 'fulfilled', start.status === 'rejected' ? String(start.reason) : '');
    assert.is(started.filter((start) => start.status === 'fulfilled' && start.value.created).length, 1, `round ${round}: one created it`);
  }
});

test.run();
