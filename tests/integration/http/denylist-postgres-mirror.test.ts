import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { MirroredPostgresDenylist } from '../../../src/shared/auth/denylist.js';
import { newId } from '../../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

interface Context {
  db: TestDatabase;
  /** Two processes of one deployment without Redis: the same database, each with its mirror. */
  a: MirroredPostgresDenylist;
  b: MirroredPostgresDenylist;
}

const test = suite<Context>('denylist without Redis: answered from memory (LISTEN), never late');
const LEASE_MS = 100;
const inAnHour = () => new Date(Date.now() + 3_600_000);

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.before(async (context) => {
  context.db = await createTestDatabase('pgmirror');
  [context.a, context.b] = [0, 1].map(() => new MirroredPostgresDenylist({ pool: context.db.pool, connectionString: context.db.url, leaseMs: LEASE_MS })) as [
    MirroredPostgresDenylist,
    MirroredPostgresDenylist,
  ];
  await waitFor(() => context.a.mirrored && context.b.mirrored, 'both mirrors to cover');
});

test.after(async ({ db, a, b }) => {
  await a.close();
  await b.close();
  await db.drop();
});

test('a revocation made by one process is refused by the other from the moment it answers, from memory', async ({ a, b }) => {
  let fromMemory = 0;
  for (let round = 0; round < 20; round += 1) {
    const jti = newId();
    assert.is(await b.isRevoked(jti), false);
    const began = performance.now();
    await a.revoke(jti, inAnHour());
    assert.ok(performance.now() - began >= LEASE_MS, 'a revocation waits out the lease');
    if (b.mirrored) fromMemory += 1;
    assert.is(await b.isRevoked(jti), true, `round ${round}: refused by the other process`);
    assert.is(await a.isRevoked(jti), true);
  }
  assert.ok(fromMemory > 0, 'the mirror answers');
});

test('a revocation written by anyone (a bare insert: an older release, a script) is announced, and refused after the lease', async ({ db, a, b }) => {
  const jti = newId();
  await db.pool.query(sql.unsafe`insert into revoked_tokens (jti, expires_at) values (${jti}, ${inAnHour().toISOString()})`);
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 1.1 + 25));
  await waitFor(() => a.mirrored && b.mirrored, 'both mirrors to cover');
  assert.is(await a.isRevoked(jti), true);
  assert.is(await b.isRevoked(jti), true);
});

test('a lost session: a revocation meanwhile is refused all the same, and a new session reads the table again', async ({ db, a, b }) => {
  const sessions = [a.sessions, b.sessions];
  await db.pool.query(sql.unsafe`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'stockroom-revocations' and datname = current_database()`);
  // Revoked while the mirrors' sessions are gone or coming back: never late all the same.
  const jti = newId();
  await a.revoke(jti, inAnHour());
  assert.is(await b.isRevoked(jti), true, 'refused once the revocation answered');
  await waitFor(() => a.sessions > sessions[0]! && b.sessions > sessions[1]! && a.mirrored && b.mirrored, 'both mirrors to cover again on new sessions', 10_000);
  assert.is(await b.isRevoked(jti), true, 'from memory');
  assert.is(await a.isRevoked(jti), true);
  assert.is(await b.isRevoked(newId()), false);
});

test.run();
