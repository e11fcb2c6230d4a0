/**
 * Cost as the data grows (issue 13, item 6, the read side): every documented list query,
 * filter and sort, and the inventory dashboard, timed on a read model of 1,000 SKUs and
 * 1,000 stock items and on one of BENCH_SCALE_ROWS (default 1,000,000) of each, side by side.
 *
 * Each size is seeded the way the projections section seeds its catch-up: a valid history
 * (one store; N SKUs created; each added to the store, 5 % of them at or below their
 * threshold; then N / 10 stock adjustments), spread over two years ending now, loaded into
 * es_events by COPY (bypassing es_append: appending millions through the API would take
 * hours here), the first manager created through the API (es_append), then the whole read
 * model built from the event store by the projector (rebuildReadModel, batches of 1,000),
 * as an upgrade or `npm run projections:rebuild` builds it. Then ANALYZE (this server runs
 * without autovacuum; production's would have analyzed the tables).
 *
 * Both read models are seeded first and each gets a read-api server (buildApp, in a child
 * process); the bench then sends one request at a time, each query to each size in turn
 * (interleaved, so a busy minute of the shared host falls on both), BENCH_SCALE_SAMPLES
 * (default 100) rounds after a warm-up round, and reports each query's p50 and p99 over HTTP
 * (server and client on the same two shared cores). A query that does not answer 200 counts
 * as an error.
 */
import pg from 'pg';
import { z } from 'zod/v4';
import { ensureReadModelSchema } from '../src/projections/postgres/read-model-schema.js';
import { readModelProjections } from '../src/projections/postgres/read-model-projections.js';
import { rebuildReadModel } from '../src/projections/postgres/rebuild.js';
import { CursorCodec, cursorContext } from '../src/read/cursor.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createDatabasePool } from '../src/shared/db/pool.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { copyFrom, recordStreamRevisions } from './support/copy.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { type BenchDatabase, createBenchDatabase } from './support/database.js';
import { type ServerProcess, startServer } from './support/http.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import type { BenchConfig } from './support/config.js';
import { type BenchRow, failedRow, type Section, toRow } from './support/report.js';
import { ES_EVENTS_COPY, stockHistory } from './support/stock-history.js';
import { JWT_SECRET, managerAndStaffTokens } from './support/stockroom.js';
import { availableParallelism } from 'node:os';

const SECTION = 'read-scale';
const SMALL = 1_000;
const ROWS_PER_CHUNK = 5_000;
/**
 * Events per projector batch. Not the rebuild's 5,000: a batch of 5,000 items of one store,
 * each of another SKU, takes about 15,000 advisory locks (its streams, the summary's and the
 * store totals' SKUs) and runs out of this server's lock table (max_locks_per_transaction 64).
 */
const BATCH = 1_000;
/** The goals of the issue, p50 in ms. */
const LIST_GOAL_MS = 20;
const DASHBOARD_GOAL_MS = 50;

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

interface Query {
  name: string;
  path: (ids: { storeId: string; cursors: CursorCodec }) => string;
  goalMs: number;
  /** Who asks: the manager (every store), or a staff member assigned to the one store. */
  as?: 'staff';
}

const list = (name: string, path: string): Query => ({ name, path: () => path, goalMs: LIST_GOAL_MS });
/** Staff see `/api/inventory` summed over their own stores, not the kept summary. */
const staffList = (name: string, path: string): Query => ({ ...list(name, path), as: 'staff' });
const storeList = (name: string, query: string): Query => ({
  name,
  path: ({ storeId }) => `/api/inventory/stores/${storeId}${query}`,
  goalMs: LIST_GOAL_MS,
});

/**
 * A page of /api/skus from the middle of a sort on a nullable field, as a client paging that
 * far would ask for it: its cursor made here with the server's key (for the bench only).
 */
const skusFromTheMiddle = (sort: 'price' | 'category', value: string): Query => ({
  name: `skus sort=${sort}, a page from the middle`,
  path: ({ cursors }) =>
    `/api/skus?sort=${sort}&cursor=${cursors.encode(cursorContext('skus', sort, { deleted: false }), { values: [value], id: '80000000-0000-4000-8000-000000000000' })}`,
  goalMs: LIST_GOAL_MS,
});

/** Every documented list query, filter and sort (docs: the HTTP contract), first pages of 50, and two pages deep in a list. */
const QUERIES: Query[] = [
  list('skus', '/api/skus'),
  list('skus sort=name', '/api/skus?sort=name'),
  list('skus sort=-name', '/api/skus?sort=-name'),
  list('skus sort=category', '/api/skus?sort=category'),
  list('skus sort=price', '/api/skus?sort=price'),
  list('skus sort=-price', '/api/skus?sort=-price'),
  list('skus sort=lowStockThreshold', '/api/skus?sort=lowStockThreshold'),
  list('skus q=9999', '/api/skus?q=9999'),
  list('skus q=article 12345', '/api/skus?q=article%2012345'),
  list('skus category=tea', '/api/skus?category=tea'),
  list('skus category=tea sort=-price', '/api/skus?category=tea&sort=-price'),
  list('skus deleted=true', '/api/skus?deleted=true'),
  skusFromTheMiddle('price', '25.50'),
  skusFromTheMiddle('category', 'snacks'),
  list('inventory', '/api/inventory'),
  list('inventory sort=name', '/api/inventory?sort=name'),
  list('inventory sort=category', '/api/inventory?sort=category'),
  list('inventory sort=totalQuantity', '/api/inventory?sort=totalQuantity'),
  list('inventory sort=-totalQuantity', '/api/inventory?sort=-totalQuantity'),
  list('inventory sort=storeCount', '/api/inventory?sort=storeCount'),
  list('inventory sort=-lowStockStoreCount', '/api/inventory?sort=-lowStockStoreCount'),
  list('inventory lowStock=true', '/api/inventory?lowStock=true'),
  list('inventory q=9999', '/api/inventory?q=9999'),
  list('inventory category=tea', '/api/inventory?category=tea'),
  list('inventory minQuantity=200', '/api/inventory?minQuantity=200'),
  staffList('inventory (staff)', '/api/inventory'),
  staffList('inventory (staff) sort=name', '/api/inventory?sort=name'),
  staffList('inventory (staff) sort=-totalQuantity', '/api/inventory?sort=-totalQuantity'),
  staffList('inventory (staff) sort=storeCount', '/api/inventory?sort=storeCount'),
  staffList('inventory (staff) sort=-lowStockStoreCount', '/api/inventory?sort=-lowStockStoreCount'),
  staffList('inventory (staff) lowStock=true', '/api/inventory?lowStock=true'),
  staffList('inventory (staff) q=9999', '/api/inventory?q=9999'),
  staffList('inventory (staff) minQuantity=200', '/api/inventory?minQuantity=200'),
  storeList('store inventory', ''),
  storeList('store inventory sort=name', '?sort=name'),
  storeList('store inventory sort=category', '?sort=category'),
  storeList('store inventory sort=quantity', '?sort=quantity'),
  storeList('store inventory sort=-quantity', '?sort=-quantity'),
  storeList('store inventory sort=lowStockThreshold', '?sort=lowStockThreshold'),
  storeList('store inventory lowStock=true', '?lowStock=true'),
  storeList('store inventory lowStock=true sort=quantity', '?lowStock=true&sort=quantity'),
  storeList('store inventory q=9999', '?q=9999'),
  storeList('store inventory category=tea', '?category=tea'),
  storeList('store inventory maxQuantity=10', '?maxQuantity=10'),
  list('stores', '/api/stores'),
  list('stores sort=code', '/api/stores?sort=code'),
  list('stores sort=status', '/api/stores?sort=status'),
  list('users', '/api/users'),
  list('users sort=displayName', '/api/users?sort=displayName'),
  list('users sort=role', '/api/users?sort=role'),
  { name: 'dashboard (/api/reports/inventory)', path: () => '/api/reports/inventory', goalMs: DASHBOARD_GOAL_MS },
];

interface Tokens {
  manager: string;
  staff: string;
}

interface Timed {
  latency: LatencyHistogram;
  errors: number;
  firstError: string | null;
  items: number | null;
}

/** Seeds a read model of `rows` SKUs and stock items through the event store and the projector. */
export async function seedReadScale(database: BenchDatabase, rows: number): Promise<{ storeId: string; tokens: Tokens; note: string }> {
  await migrate(database.url);
  const adjustments = Math.max(100, Math.floor(rows / 10));
  const history = stockHistory({ stores: 1, skus: rows, events: 1 + 2 * rows + adjustments, spanDays: 730, lowStockShare: 0.05 });
  const total = history.shape.events;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const began = performance.now();
  try {
    progress(`${SECTION}: ${count(rows)} rows: loading ${count(total)} events into es_events with COPY`);
    let copied = 0;
    let next = total / 5;
    const chunks = function* () {
      for (const chunk of history.chunks(ROWS_PER_CHUNK)) {
        yield chunk;
        copied = Math.min(total, copied + ROWS_PER_CHUNK);
        if (copied >= next) {
          progress(`${SECTION}: ${count(rows)} rows: es_events ${count(copied)} / ${count(total)}`);
          next += total / 5;
        }
      }
    };
    await copyFrom(client, ES_EVENTS_COPY, chunks());
    await recordStreamRevisions(client, history.streamRevisions());
    await client.query('analyze');
  } finally {
    await client.end();
  }
  const loadSeconds = (performance.now() - began) / 1000;
  const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
  try {
    // Through the API (es_append): the users list has rows, and the bench its tokens.
    const { manager, staff } = await managerAndStaffTokens(pool, history.storeIds.slice(0, 1));
    if (staff === null) throw new Error('read-scale: the seeded history has no store for the staff member');
    const tokens: Tokens = { manager, staff };
    await ensureReadModelSchema(database.url);
    progress(`${SECTION}: ${count(rows)} rows: the projector builds the read model (rebuildReadModel, batches of ${count(BATCH)})`);
    const rebuilt = performance.now();
    let reported = 0;
    const result = await rebuildReadModel({
      databaseUrl: database.url,
      pool,
      store: new PostgresEventStore(pool),
      projections: readModelProjections,
      batchSize: BATCH,
      progress: (report) => {
        if (report.events - reported < total / 10 && report.through < report.head) return;
        reported = report.events;
        progress(`${SECTION}: ${count(rows)} rows: projected ${count(report.events)} / ${count(total)} events (${count(report.eventsPerSecond)} events/s)`);
      },
    });
    const rebuildSeconds = (performance.now() - rebuilt) / 1000;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('analyze');
      const sizes = z
        .object({ skus: z.string(), stock: z.string() })
        .parse((await admin.query(`select (select count(*) from read_model.skus)::text as skus, (select count(*) from read_model.stock)::text as stock`)).rows[0]);
      const note =
        `${sizes.skus} SKUs, ${sizes.stock} stock items; ${count(total)} events COPY-loaded in ${loadSeconds.toFixed(0)} s, ` +
        `projected in ${rebuildSeconds.toFixed(0)} s (${count(result.events / rebuildSeconds)} events/s)`;
      progress(`${SECTION}: ${count(rows)} rows: ${note}`);
      return { storeId: history.storeIds[0] ?? '', tokens, note };
    } finally {
      await admin.end();
    }
  } finally {
    await pool.end();
  }
}

const pageItems = z.object({ items: z.unknown() });

interface Prepared {
  rows: number;
  note: string;
  database: BenchDatabase;
  server: ServerProcess;
  tokens: Tokens;
  storeId: string;
}

interface Measured {
  rows: number;
  note: string;
  results: Map<string, Timed>;
}

/**
 * Times every query on every prepared read model, interleaved: in each round each query is
 * sent to each size in turn, so that the host's noise (shared, busy) falls on both sides
 * alike instead of on whichever size ran during a busy minute.
 */
async function timeInterleaved(prepared: readonly Prepared[], samples: number): Promise<Measured[]> {
  const cursors = new CursorCodec(JWT_SECRET);
  const measured = prepared.map((side) => ({
    rows: side.rows,
    note: side.note,
    results: new Map<string, Timed>(QUERIES.map((query) => [query.name, { latency: new LatencyHistogram(), errors: 0, firstError: null, items: null }])),
  }));
  // A warm-up round (plans, caches), then the timed ones.
  for (let round = -1; round < samples; round += 1) {
    for (const query of QUERIES) {
      for (const [index, side] of prepared.entries()) {
        const timed = measured[index]!.results.get(query.name)!;
        const began = performance.now();
        const response = await fetch(`${side.server.url}${query.path({ storeId: side.storeId, cursors })}`, { headers: { authorization: `Bearer ${side.tokens[query.as ?? 'manager']}` } });
        const text = await response.text();
        const elapsed = performance.now() - began;
        if (response.status !== 200) {
          timed.errors += 1;
          timed.firstError ??= `${response.status} ${text.slice(0, 200)}`;
          continue;
        }
        if (round === -1) {
          const { items } = pageItems.parse(JSON.parse(text));
          timed.items = Array.isArray(items) ? items.length : null;
          continue;
        }
        timed.latency.record(elapsed);
      }
    }
  }
  return measured;
}

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '—');

/** The side-by-side table printed under the section's rows. */
function sideBySide(small: Measured, large: Measured): string {
  const header = `| query | items | p50 ms at ${count(small.rows)} | p99 ms at ${count(small.rows)} | p50 ms at ${count(large.rows)} | p99 ms at ${count(large.rows)} | goal (p50) |`;
  const lines = QUERIES.map((query) => {
    const a = small.results.get(query.name)!;
    const b = large.results.get(query.name)!;
    const sa = a.latency.summary();
    const sb = b.latency.summary();
    const verdict = b.errors > 0 ? `errors: ${b.firstError ?? ''}` : sb.p50 < query.goalMs ? `< ${query.goalMs} ms: met` : `< ${query.goalMs} ms: MISSED`;
    return `| ${query.name} | ${b.items ?? '—'} | ${ms(sa.p50)} | ${ms(sa.p99)} | ${ms(sb.p50)} | ${ms(sb.p99)} | ${verdict} |`;
  });
  return [`${count(small.rows)}: ${small.note}`, `${count(large.rows)}: ${large.note}`, '', header, '|---|--:|--:|--:|--:|--:|---|', ...lines].join('\n');
}

export const readScaleSection: Section = {
  id: SECTION,
  title: 'Cost as the data grows: documented list queries and the dashboard, at 1,000 rows and at BENCH_SCALE_ROWS',
  workersLabel: 'clients',
  async run({ config }) {
    const rows: BenchRow[] = [];
    const prepared: Prepared[] = [];
    let measured: Measured[] = [];
    const cpuBefore = cpuSnapshot();
    try {
      for (const size of [SMALL, config.scaleRows]) {
        const database = await createBenchDatabase(`read_scale_${size}`);
        try {
          const seeded = await seedReadScale(database, size);
          const server = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'read-api' });
          prepared.push({ rows: size, note: seeded.note, database, server, tokens: seeded.tokens, storeId: seeded.storeId });
        } catch (error) {
          await database.drop().catch(() => {});
          throw error;
        }
      }
      progress(`${SECTION}: timing ${QUERIES.length} queries on ${prepared.map((side) => count(side.rows)).join(' and ')} rows, interleaved, ${config.scaleSamples} requests each, one at a time`);
      measured = await timeInterleaved(prepared, config.scaleSamples);
    } catch (error) {
      progress(`${SECTION}: failed: ${describeError(error)}`);
      rows.push(failedRow({ section: SECTION, scenario: 'seed and time', subject: prepared.map((side) => count(side.rows)).join(', ') || 'none', workers: 1 }, describeError(error)));
    } finally {
      for (const side of prepared) {
        await side.server.stop().catch(() => {});
        await side.database.drop().catch((error: unknown) => progress(`could not drop ${side.database.name}: ${describeError(error)}`));
      }
    }
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(), 1, availableParallelism());
    for (const query of QUERIES) {
      for (const side of measured) {
        const timed = side.results.get(query.name)!;
        const latency = timed.latency.summary();
        rows.push(
          toRow({
            section: SECTION,
            scenario: query.name,
            subject: `${count(side.rows)} rows`,
            workers: 1,
            result: {
              operations: latency.count,
              errors: timed.errors,
              firstError: timed.firstError,
              elapsedSeconds: 0,
              operationsPerSecond: latency.count > 0 ? 1000 / latency.mean : Number.NaN,
              latency,
              cpu: { clientMicrosPerOp: Number.NaN, hostBusyPercent: cpu.hostBusyPercent, hostMicrosPerOp: null },
              serverCpuMicrosPerOp: null,
            },
            note: `goal p50 < ${query.goalMs} ms; first page: ${timed.items ?? '—'} items`,
          }),
        );
      }
    }
    const [small, large] = measured;
    if (small && large) readScaleSection.legend = sideBySide(small, large);
    return rows;
  },
};
