import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/shared/config.js';
import { createDatabasePool, type DatabasePool } from '../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { ensureFirstManager } from '../../src/write/first-manager.js';

/** The first manager every bench database gets, and the secret its tokens are signed with. */
export const ADMIN = { username: 'admin', password: 'bench-admin-password-1' };
/**
 * Random per run, as production's config requires (a fixed, readable value is refused as a
 * placeholder). Set in the environment, so that the HTTP servers the bench starts in child
 * processes (their env is this one's) sign and check tokens with the same secret.
 */
process.env.BENCH_JWT_SECRET ??= randomBytes(48).toString('base64');
export const JWT_SECRET: string = process.env.BENCH_JWT_SECRET;

/** The app's settings for a bench process: the given roles, nothing else from the environment. */
export const benchConfig = (roles: string, extra: Record<string, string> = {}) =>
  loadConfig({ NODE_ENV: 'production', JWT_SECRET, ROLES: roles, LOG_LEVEL: 'silent', ...extra });

/**
 * Creates the first manager if needed and logs in through the API (POST /api/auth/login,
 * in-process through fastify.inject) on a write-api app of its own: a read-api server
 * built with the same secret accepts the token.
 */
/** The same for a database the caller holds no pool of: one of two connections, for the login only. */
export async function managerTokenAt(databaseUrl: string): Promise<string> {
  const pool = await createDatabasePool(databaseUrl, { maximumPoolSize: 2 });
  try {
    return await managerToken(pool);
  } finally {
    await pool.end();
  }
}

export async function managerToken(pool: DatabasePool): Promise<string> {
  return (await managerAndStaffTokens(pool, [])).manager;
}

/**
 * The first manager's token and, when `staffStoreIds` is not empty, a staff member's assigned
 * to those stores (registered by the manager through the API; the stores must be in the event store).
 */
export async function managerAndStaffTokens(pool: DatabasePool, staffStoreIds: readonly string[]): Promise<{ manager: string; staff: string | null }> {
  const eventStore = new PostgresEventStore(pool);
  const app = await buildApp({ config: benchConfig('write-api'), pool, eventStore, jwtSecret: JWT_SECRET, logger: false });
  const login = async (credentials: { username: string; password: string }) => {
    const response = await app.inject({ method: 'POST', url: '/api/auth/login', payload: credentials });
    if (response.statusCode !== 200) throw new Error(`login: ${response.statusCode} ${response.body}`);
    return response.json<{ token: string }>().token;
  };
  try {
    await ensureFirstManager(app.commands, ADMIN);
    const manager = await login(ADMIN);
    if (staffStoreIds.length === 0) return { manager, staff: null };
    const staffMember = { username: 'bench-staff', password: 'bench-staff-password' };
    const created = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { authorization: `Bearer ${manager}` },
      payload: { ...staffMember, role: 'staff', storeIds: staffStoreIds },
    });
    if (created.statusCode !== 201) throw new Error(`register staff: ${created.statusCode} ${created.body}`);
    return { manager, staff: await login(staffMember) };
  } finally {
    await app.close();
  }
}

/** Calls `work` on every item with at most `concurrency` calls in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const index = next;
        next += 1;
        const item = items[index];
        if (index >= items.length || item === undefined) return;
        await work(item, index);
      }
    }),
  );
}
