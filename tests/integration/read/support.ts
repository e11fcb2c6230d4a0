import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'slonik';
import * as assert from 'uvu/assert';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { recountCatalogTotals } from '../../../src/projections/postgres/projections/catalog-totals.js';
import { refreshStoreTotals } from '../../../src/projections/postgres/projections/store-totals.js';
import { streamHistory } from '../../../src/read/history.js';
import { readApi } from '../../../src/read/plugin.js';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';
import { createUser, unique } from '../../support/http-assertions.js';

export const CURSOR_SECRET = 'read-api-test-cursor-secret';
const RM = 'read_model';

/**
 * A real server with the command half and the read API, on a database of its own with an
 * empty read model. The read model is seeded directly (the projector is tested elsewhere).
 */
export async function startReadHarness(label: string, { minPositionTimeoutMs = 300, plain = true } = {}): Promise<Harness> {
  const harness = await startHarness(label, { ROLES: 'write-api' });
  await ensureReadModelSchema(harness.db.url);
  // buildApp does not call ready(): a plugin may still be registered before the first request.
  // As main.ts wires it: the store page on the event store's plain pool (plain: false, on slonik's).
  await harness.app.register(readApi, { pool: harness.db.pool, plain: plain ? (harness.plainPool ?? null) : null, cursorSecret: CURSOR_SECRET, minPositionTimeoutMs, history: streamHistory(harness.eventStore) });
  return harness;
}

// ---- seed data -------------------------------------------------------------------------

export interface SeedUser {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  role: 'manager' | 'staff' | 'auditor';
  storeIds: string[];
  deleted: boolean;
  revision: number;
}
export interface SeedStore {
  id: string;
  name: string;
  code: string | null;
  address: string | null;
  status: 'open' | 'closed';
  revision: number;
}
export interface SeedSku {
  id: string;
  code: string;
  name: string;
  category: string | null;
  unit: string;
  price: string | null;
  lowStockThreshold: number;
  deleted: boolean;
  revision: number;
}
export interface SeedStock {
  storeId: string;
  skuId: string;
  quantity: number;
  lowStockThreshold: number;
  removed: boolean;
  revision: number;
}

export interface Seed {
  manager: Client;
  staff: Client;
  auditor: Client;
  /** The stores the staff member is assigned to (they exist in the event store too). */
  staffStoreIds: string[];
  /** A store the staff member is not assigned to. */
  otherStoreId: string;
  users: SeedUser[];
  stores: SeedStore[];
  skus: SeedSku[];
  stock: SeedStock[];
}

/** A small deterministic generator: the same data on every run. */
export function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]! };
}

const WORDS = ['apple', 'bread', 'cheese', 'dates', 'eggs', 'flour', 'grapes', 'honey'] as const;
export const CATEGORIES = ['bakery', 'dairy', 'drinks', 'produce', null] as const;
const PRICES = ['1.00', '4.50', '4.125', '12.99', '0.0001', '250.00', '3.10', '99.9999'] as const;

/** Rows as JSON in the table's own row type: every column named, no column list to keep in step. */
const insert = (harness: Harness, table: string, rows: object[]) =>
  harness.db.pool.query(sql.unsafe`
    insert into ${sql.identifier([RM, table])}
    select * from jsonb_populate_recordset(null::${sql.identifier([RM, table])}, ${JSON.stringify(rows)}::jsonb)`);

/**
 * Seeds users, 12 stores, 120 SKUs (repeated names and categories, some null prices, some
 * deleted) and the stock of six stores, with the summary computed as the projector does.
 */
export async function seedReadModel(harness: Harness): Promise<Seed> {
  const rnd = random(20_240_611);
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  // Three real stores: staff can only be assigned to stores the write side knows.
  const apiStores: SeedStore[] = [];
  for (const [index, name] of ['Harbour', 'Market', 'Uptown'].entries()) {
    const response = await manager.post('/api/stores', { name: `${name} store`, code: `ST${index}` });
    assert.is(response.statusCode, 201, response.body);
    const id = response.json<{ id: string }>().id;
    apiStores.push({ id, name: `${name} store`, code: `ST${index}`, address: null, status: 'open', revision: 0 });
  }
  const staffName = unique('staff');
  const auditorName = unique('auditor');
  const staffStoreIds = [apiStores[0]!.id, apiStores[1]!.id];
  await createUser(manager, { username: staffName, password: 'staff-password-1', role: 'staff', storeIds: staffStoreIds });
  await createUser(manager, { username: auditorName, password: 'auditor-password-1', role: 'auditor' });
  const staff = await login(harness, staffName, 'staff-password-1');
  const auditor = await login(harness, auditorName, 'auditor-password-1');

  const stores: SeedStore[] = [...apiStores];
  for (let index = 0; index < 9; index += 1) {
    stores.push({
      id: randomUUID(),
      name: `${rnd.pick(['North', 'South', 'East', 'West'])} ${String(index).padStart(2, '0')}`,
      code: index % 4 === 0 ? null : `S${String(rnd.int(10, 99))}`,
      address: index % 2 === 0 ? `${index} High street` : null,
      status: index % 3 === 0 ? 'closed' : 'open',
      revision: rnd.int(0, 5),
    });
  }

  const users: SeedUser[] = [];
  for (let index = 0; index < 40; index += 1) {
    const role = rnd.pick(['manager', 'staff', 'auditor'] as const);
    users.push({
      id: randomUUID(),
      username: `${rnd.pick(WORDS)}${String(index).padStart(2, '0')}`,
      displayName: index % 5 === 0 ? null : `${rnd.pick(['Ada', 'Bo', 'Cy', 'Di'])} ${rnd.pick(WORDS)}`,
      email: index % 7 === 0 ? null : `person${index}@example.${index % 2 ? 'com' : 'org'}`,
      role,
      storeIds: role === 'staff' ? [rnd.pick(stores).id] : [],
      deleted: index % 9 === 4,
      revision: rnd.int(0, 3),
    });
  }

  const skus: SeedSku[] = [];
  for (let index = 0; index < 120; index += 1) {
    skus.push({
      id: randomUUID(),
      code: `SKU-${String((index * 37) % 120).padStart(3, '0')}`,
      name: `${rnd.pick(WORDS)} ${rnd.pick(['box', 'jar', 'bag'])}`,
      category: rnd.pick(CATEGORIES),
      unit: rnd.pick(['each', 'kg']),
      price: index % 6 === 0 ? null : rnd.pick(PRICES),
      lowStockThreshold: rnd.int(0, 8),
      deleted: index % 15 === 7,
      revision: rnd.int(0, 4),
    });
  }

  const stock: SeedStock[] = [];
  for (const store of stores.slice(0, 6)) {
    for (const sku of skus) {
      if (rnd.next() < 0.45) continue;
      stock.push({
        storeId: store.id,
        skuId: sku.id,
        quantity: rnd.int(0, 40),
        lowStockThreshold: rnd.int(0, 10),
        removed: rnd.next() < 0.1,
        revision: rnd.int(0, 9),
      });
    }
  }

  const at = new Date().toISOString();
  await insert(
    harness,
    'users',
    users.map((u) => ({ id: u.id, username: u.username, display_name: u.displayName, email: u.email, role: u.role, store_ids: u.storeIds, low_stock_emails: true, deleted: u.deleted, revision: u.revision, position: 1, created_at: at, updated_at: at })),
  );
  await insert(
    harness,
    'stores',
    stores.map((s) => ({ ...s, position: 1, created_at: at, updated_at: at })),
  );
  await insert(
    harness,
    'skus',
    skus.map((k) => ({ ...k, low_stock_threshold: k.lowStockThreshold, position: 1, created_at: at, updated_at: at })),
  );
  await insert(
    harness,
    'stock',
    stock.map((s) => ({ store_id: s.storeId, sku_id: s.skuId, quantity: s.quantity, low_stock_threshold: s.lowStockThreshold, removed: s.removed, revision: s.revision, position: 1, updated_at: at })),
  );
  // As the projector computes it.
  await harness.db.pool.query(sql.unsafe`
    insert into read_model.stock_summary (sku_id, total_quantity, store_count, low_stock_store_count, position, updated_at)
    select sku_id, coalesce(sum(quantity) filter (where not removed), 0), count(*) filter (where not removed),
           count(*) filter (where not removed and quantity <= low_stock_threshold), max(position), max(updated_at)
      from read_model.stock group by sku_id`);
  await harness.db.pool.transaction((tx) => refreshStoreTotals(tx, RM, { items: stock, pricedSkuIds: [] }));
  await harness.db.pool.transaction((tx) => recountCatalogTotals(tx, RM));
  await setProgress(harness, [100n, 150n, 120n]);

  return { manager, staff, auditor, staffStoreIds, otherStoreId: apiStores[2]!.id, users, stores, skus, stock };
}

/** Replaces the progress rows: one per partition, `through` each. */
export async function setProgress(harness: Harness, throughs: bigint[]): Promise<void> {
  await harness.db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`delete from read_model.progress`);
    for (const [partition, through] of throughs.entries()) {
      await tx.query(sql.unsafe`insert into read_model.progress (partition, through) values (${partition}, ${through.toString()}::bigint)`);
    }
  });
}

// ---- reading and the reference order --------------------------------------------------

export interface PageBody<T> {
  items: T[];
  next: string | null;
}

const describe = (response: LightMyRequestResponse) => `${response.statusCode} ${response.body.slice(0, 500)}`;

export function ok<T>(response: LightMyRequestResponse): T {
  assert.is(response.statusCode, 200, describe(response));
  assert.match(String(response.headers['content-type']), /^application\/json/);
  return response.json<T>();
}

/** Follows `next` from the first page to the last; answers every item and the number of pages. */
export async function collect<T>(client: Client, url: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let pages = 1; pages < 1000; pages += 1) {
    const separator = url.includes('?') ? '&' : '?';
    const body: PageBody<T> = ok<PageBody<T>>(await client.get(cursor === null ? url : `${url}${separator}cursor=${encodeURIComponent(cursor)}`));
    items.push(...body.items);
    if (body.next === null) return { items, pages };
    assert.ok(body.items.length > 0, 'a page with a next is never empty');
    cursor = body.next;
  }
  throw new Error(`${url} never ended`);
}

export type SortValue = string | number | null;
export type Getters<T> = Record<string, (row: T) => SortValue>;

/** The order the API promises, done in JS: NULLs last ascending and first descending; the id last, in the last key's direction. */
export function referenceSort<T>(rows: readonly T[], sort: string, getters: Getters<T>, id: (row: T) => string): T[] {
  const keys = sort.split(',').map((part) => {
    const descending = part.startsWith('-');
    const get = getters[descending ? part.slice(1) : part];
    if (!get) throw new Error(`no getter for ${part}`);
    return { descending, get };
  });
  const idDescending = keys.at(-1)?.descending ?? false;
  const compare = (a: SortValue, b: SortValue): number => {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return a < b ? -1 : 1;
  };
  return [...rows].sort((left, right) => {
    for (const key of keys) {
      const order = compare(key.get(left), key.get(right));
      if (order !== 0) return key.descending ? -order : order;
    }
    const order = compare(id(left), id(right));
    return idDescending ? -order : order;
  });
}

export const upper = (value: string | null) => (value === null ? null : value.toUpperCase());
export const lower = (value: string | null) => (value === null ? null : value.toLowerCase());
