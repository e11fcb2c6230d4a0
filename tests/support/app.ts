import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import { buildApp } from '../../src/app.js';
import { type Background, startBackground } from '../../src/background.js';
import { loadConfig } from '../../src/shared/config.js';
import { createAppendPool } from '../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { ensureFirstManager } from '../../src/write/first-manager.js';
import type { Redis } from '../../src/shared/redis.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { testBus } from './kafka.js';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };
const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export type TestApp = Awaited<ReturnType<typeof buildApp>>;

export interface Harness {
  db: TestDatabase;
  app: TestApp;
  eventStore: PostgresEventStore;
  /** The event store's plain pool, which the app's read API also runs its store page on. */
  plainPool?: pg.Pool;
  /** Forwarder and projectors through a real Kafka, when asked for. */
  background: Background | null;
  /** A fresh app on the same database, as after a restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A real server (in-process, through fastify.inject) on a database of its own. */
export async function startHarness(
  label: string,
  env: Record<string, string> = {},
  {
    projections = false,
    redis = null,
    forwarderInApp = false,
  }: { projections?: boolean; redis?: Redis | null; /** The app reports the background's forwarder, as in one process. */ forwarderInApp?: boolean } = {},
): Promise<Harness> {
  const db = await createTestDatabase(label);
  const appendPool = createAppendPool(db.url);
  const eventStore = new PostgresEventStore(db.pool, appendPool);
  // Files a role writes (the mailer's .eml files) go to a folder of the test's own, never ./data.
  const dataDir = await mkdtemp(path.join(tmpdir(), `stockroom-${label}-`));
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET, DATA_DIR: dataDir, ...env });
  const build = () =>
    buildApp({ config, pool: db.pool, eventStore, jwtSecret: JWT_SECRET, logger: false, databaseUrl: db.url, redis, plainPool: appendPool, forwarder: forwarderInApp && background?.forwarder ? () => background.forwarder!.status() : null });
  const quiet = { info() {}, warn() {}, error() {} };
  const background = projections
    ? await startBackground({ config, pool: db.pool, databaseUrl: db.url, eventStore, bus: testBus(label), log: quiet, redis, groupSuffix: `${label}-${randomBytes(3).toString('hex')}` })
    : null;
  const harness: Harness = {
    db,
    eventStore,
    plainPool: appendPool,
    background,
    app: await build(),
    async restart() {
      await harness.app.close();
      harness.app = await build();
    },
    async close() {
      await harness.app.close();
      await background?.stop();
      await appendPool.end();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  await ensureFirstManager(harness.app.commands, ADMIN);
  return harness;
}

export interface Client {
  token: string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  patch(url: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  put(url: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  delete(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export function clientWithToken(harness: Harness, token: string): Client {
  const request = (options: InjectOptions) =>
    harness.app.inject({ ...options, headers: { authorization: `Bearer ${token}`, ...(options.headers ?? {}) } });
  return {
    token,
    request,
    get: (url, headers) => request({ method: 'GET', url, headers }),
    post: (url, body, headers) => request({ method: 'POST', url, payload: body as InjectOptions['payload'], headers }),
    patch: (url, body, headers) => request({ method: 'PATCH', url, payload: body as InjectOptions['payload'], headers }),
    put: (url, body, headers) => request({ method: 'PUT', url, payload: body as InjectOptions['payload'], headers }),
    delete: (url, headers) => request({ method: 'DELETE', url, headers }),
  };
}

export async function login(harness: Harness, username: string, password: string): Promise<Client> {
  const response = await harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (response.statusCode !== 200) throw new Error(`login ${username}: ${response.statusCode} ${response.body}`);
  return clientWithToken(harness, response.json<{ token: string }>().token);
}

/** A store, a SKU in it with some stock, and a staff member assigned to that store. */
export async function seedStore(harness: Harness, manager: Client, quantity = 10) {
  const store = (await manager.post('/api/stores', { name: `Store ${Math.random().toString(36).slice(2, 7)}` })).json<{ id: string }>();
  const code = `SKU-${Math.random().toString(36).slice(2, 9)}`;
  const sku = (await manager.post('/api/skus', { code, name: 'Green tea', lowStockThreshold: 3 })).json<{ id: string }>();
  const item = await manager.post(`/api/inventory/stores/${store.id}/items`, { skuId: sku.id, quantity });
  if (item.statusCode !== 201) throw new Error(`seed item: ${item.body}`);
  const username = `staff${Math.random().toString(36).slice(2, 8)}`;
  const staffUser = await manager.post('/api/users', { username, password: 'staff-password-1', role: 'staff', storeIds: [store.id] });
  if (staffUser.statusCode !== 201) throw new Error(`seed staff: ${staffUser.body}`);
  const staff = await login(harness, username, 'staff-password-1');
  return { storeId: store.id, skuId: sku.id, itemUrl: `/api/inventory/stores/${store.id}/items/${sku.id}`, staff, staffId: staffUser.json<{ id: string }>().id };
}
