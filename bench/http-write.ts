/**
 * Stock adjustments over HTTP: the whole write path of a request (fastify, JWT and the
 * token denylist, zod, the command handler, es_append) under autocannon, against a real
 * server in a process of its own, beside an empty fastify route measured in the same run.
 *
 *   empty fastify route   GET /empty on a fastify configured like buildApp's: the limit of
 *                         the HTTP part on this machine;
 *   spread                PATCH {delta:+1, reason:'received'} to a random one of 1,000 items
 *                         (1,000 streams): appends never wait for each other;
 *   one hot item          the same PATCH, always to one item: CommandHandler queues commands
 *                         to one stream within the process (src/write/command-handler.ts), so
 *                         they run one after another, one es_append at a time.
 *
 * The server is buildApp(...) with ROLES=write-api only (no forwarder, no projector) on a
 * fresh, migrated database, seeded through the API.
 */
import { migrate } from '../src/shared/db/migrate.js';
import { createDatabasePool } from '../src/shared/db/pool.js';
import type { BenchConfig } from './support/config.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { api, cpuSplit, describeCannon, emptyRouteRow, runCannon, type ServerProcess, startServer } from './support/http.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, type Section, toRow } from './support/report.js';
import { inParallel, managerToken } from './support/stockroom.js';

const SECTION = 'http-write';
const EMPTY = 'empty fastify route';

interface Seeded {
  items: { storeId: string; skuId: string; path: string }[];
}

/** Stores of 100 SKUs each, every SKU in its store with 1,000 units: created through the API. */
async function seed(server: ServerProcess, token: string, count: number): Promise<Seeded> {
  const stores = Math.max(1, Math.ceil(count / 100));
  const storeIds: string[] = [];
  for (let index = 0; index < stores; index += 1) {
    const created = await api<{ id: string }>(server.url, 'POST', '/api/stores', token, { name: `Bench store ${index + 1}` });
    if (created.status !== 201) throw new Error(`seed store: ${created.status} ${JSON.stringify(created.body)}`);
    storeIds.push(created.body.id);
  }
  const items: Seeded['items'] = [];
  let done = 0;
  await inParallel(
    Array.from({ length: count }, (_, index) => index),
    16,
    async (index) => {
      const sku = await api<{ id: string }>(server.url, 'POST', '/api/skus', token, {
        code: `BENCH-${String(index + 1).padStart(6, '0')}`,
        name: `Bench article ${index + 1}`,
        lowStockThreshold: 5,
      });
      if (sku.status !== 201) throw new Error(`seed SKU: ${sku.status} ${JSON.stringify(sku.body)}`);
      const storeId = storeIds[index % stores]!;
      const item = await api(server.url, 'POST', `/api/inventory/stores/${storeId}/items`, token, { skuId: sku.body.id, quantity: 1_000 });
      if (item.status !== 201) throw new Error(`seed item: ${item.status} ${JSON.stringify(item.body)}`);
      items.push({ storeId, skuId: sku.body.id, path: `/api/inventory/stores/${storeId}/items/${sku.body.id}` });
      done += 1;
      if (done % 250 === 0) progress(`${SECTION}: seeded ${done.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} items`);
    },
  );
  return { items };
}

const ADJUSTMENT = JSON.stringify({ delta: 1, reason: 'received' });

export async function runHttpWrite(config: BenchConfig): Promise<BenchRow[]> {
  const connections = config.httpConnections;
  const scenario = `HTTP, ${connections} connections`;
  const input = (subject: string) => ({ section: SECTION, scenario, subject, workers: connections });
  const cell = { connections, warmupSeconds: config.warmupSeconds, seconds: config.seconds };
  const rows: BenchRow[] = [];

  // The baseline first, in its own process, while nothing else runs.
  rows.push(await emptyRouteRow(cell, input(EMPTY), SECTION));

  const spreadSubject = `PATCH item, ${config.httpItems.toLocaleString('en-US')} items`;
  const hotSubject = 'PATCH item, one hot item';
  try {
    await withFreshDatabase('http_write', async (database) => {
      await migrate(database.url);
      const pool = await createDatabasePool(database.url, { maximumPoolSize: 2 });
      let token: string;
      try {
        token = await managerToken(pool);
      } finally {
        await pool.end();
      }
      const server = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'write-api' });
      try {
        progress(`${SECTION}: seeding ${config.httpItems.toLocaleString('en-US')} stock items through the API`);
        const seeded = await seed(server, token, config.httpItems);
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        await checkpoint(database.url);

        const paths = seeded.items.map((item) => item.path);
        progress(`${SECTION}: ${spreadSubject}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        const spread = await runCannon({
          ...cell,
          server,
          databaseUrl: database.url,
          headers,
          request: {
            method: 'PATCH',
            body: ADJUSTMENT,
            setupRequest: (request) => ({ ...request, path: paths[Math.floor(Math.random() * paths.length)] ?? paths[0] }),
          },
        });
        progress(`${SECTION}: ${spreadSubject}: ${describeCannon(spread)}`);
        rows.push(toRow({ ...input(spreadSubject), result: spread, note: `${cpuSplit(spread)}; ${seeded.items.length.toLocaleString('en-US')} streams` }));

        await checkpoint(database.url);
        const hot = seeded.items[0];
        if (!hot) throw new Error('no item seeded');
        progress(`${SECTION}: ${hotSubject}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        const hotResult = await runCannon({
          ...cell,
          server,
          databaseUrl: database.url,
          headers,
          request: { method: 'PATCH', path: hot.path, body: ADJUSTMENT },
        });
        progress(`${SECTION}: ${hotSubject}: ${describeCannon(hotResult)}`);
        rows.push(
          toRow({
            ...input(hotSubject),
            result: hotResult,
            note: `${cpuSplit(hotResult)}; one stream, commands queued in the process (one es_append at a time)`,
          }),
        );
      } finally {
        await server.stop();
      }
    });
  } catch (error) {
    progress(`${SECTION}: failed: ${describeError(error)}`);
    for (const subject of [spreadSubject, hotSubject]) {
      if (!rows.some((row) => row.subject === subject)) rows.push(failedRow(input(subject), describeError(error)));
    }
  }
  return compareTo(rows, () => EMPTY);
}

export const httpWriteSection: Section = {
  id: SECTION,
  title: 'HTTP write: stock adjustments (PATCH /api/inventory/stores/:storeId/items/:skuId)',
  workersLabel: 'connections',
  run: ({ config }) => runHttpWrite(config),
  legend: [
    'autocannon in the bench process, the server in a child process (buildApp, ROLES=write-api, 20-connection pool), PostgreSQL local.',
    'ops/s: 2xx answers per second of the measured run (after a warm-up run); p50/p99: exact, from every 2xx answer\'s response time.',
    'errors: non-2xx answers and connection errors (none expected: a PATCH without If-Match retries a lost race itself).',
    '"rate vs baseline" and "CPU/op vs baseline" compare with the empty fastify route; client CPU: autocannon per request;',
    'server CPU: the server process + the database\'s PostgreSQL backends per answer (the split is in the note).',
  ].join('\n'),
};
