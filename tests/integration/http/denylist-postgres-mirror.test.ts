import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { MirroredPostgresDenylist, revocationWaitMs } from '../../../src/shared/auth/denylist.js';
import { newId } from '../../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { inAnHour, revokeInTurns } from '../../support/revocations.js';
import { waitFor } from '../../support/wait-for.js';

interface Context {
  db: TestDatabase;
  /** Two processes of one deployment without Redis: the same database, each with its mirror. */
  a: MirroredPostgresDenylist;
  b: MirroredPostgresDenylist;
}

const test = suite<Context>('denylist without Redis: answered from memory (LISTEN), never late');
const LEASE_MS = 100;

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
  assert.ok((await revokeInTurns(a, b, LEASE_MS)) > 0, 'the mirror answers');
});

test('a revocation written by anyone (a bare insert: an older release, a script) is announced, and refused after the lease', async ({ db, a, b }) => {
  const jti = newId();
  await db.pool.query(sql.unsafe`insert into revoked_tokens (jti, expires_at) values (${jti}, ${inAnHour().toISOString()})`);
  await new Promise((resolve) => setTimeout(resolve, revocationWaitMs(LEASE_MS)));
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
