/**
 * Stock adjustments over HTTP: the whole write path of a request (fastify, JWT and the
 * token denylist, zod, the command handler, es_append) under autocannon, against real
 * servers in processes of their own, beside the peer a user would write instead and an
 * empty fastify route, measured in the same run (issue 13).
 *
 *   empty fastify route   GET /empty on a fastify configured like buildApp's: the limit of
 *                         the HTTP part on this machine;
 *   Stockroom             buildApp(...) with ROLES=write-api only (no forwarder, no
 *                         projector), Redis wired as main.ts wires REDIS_URL when it is
 *                         reachable (the token denylist is then read from Redis);
 *   classic route         bench/support/classic-server.ts: @fastify/jwt, one `pg` pool of
 *                         the same size, BEGIN, UPDATE quantity and version with a
 *                         no-negative guard, INSERT an outbox row, COMMIT.
 *
 * Each is measured on the same URLs with the same mix of requests (MIX: sales, receipts,
 * and sales larger than any stock, which both refuse with 409), over `httpItems` items and
 * on one hot item, with 1, 2 and 3 server processes writing the same items on the same
 * database (BENCH_HTTP_PROCESSES; autocannon's connections split between them), so that
 * races between processes are measured and the rate shows where the database becomes the
 * limit. The pools are sized so that all processes together hold `httpPoolSize`
 * connections per pool, as for one process. Subjects alternate which goes first from one
 * process count to the next.
 */
import { migrate } from '../src/shared/db/migrate.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { classicSchema } from './support/classic-server.js';
import type { BenchConfig } from './support/config.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { api, cpuSplit, describeCannon, emptyRouteRow, runCannon, type ServerProcess, startServer } from './support/http.js';
import { describeError, progress } from './support/progress.js';
import { deleteKeys, redisReachable } from './support/redis-keys.js';
import { type BenchRow, compareTo, failedRow, formatGoals, p99Goal, rateGoal, type Section, toRow } from './support/report.js';
import { inParallel, managerTokenAt } from './support/stockroom.js';

const SECTION = 'http-write';
const EMPTY = 'empty fastify route';
const STOCKROOM = 'Stockroom';
const CLASSIC = 'classic route (pg, BEGIN…COMMIT)';
/** Every item starts with this many units: the mix's small sales never run an item out, its large ones always are refused. */
const STARTING_QUANTITY = 100_000;

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/**
 * The requests of every write cell, drawn at random per request, the same for every subject:
 * 45 % sales of 1–3 units, 45 % receipts of 1–3 units, 10 % sales of 10,000,000 units
 * (more than any item can hold here: refused, 409 insufficient stock).
 */
const MIX = {
  sales: [1, 2, 3].map((units) => JSON.stringify({ delta: -units, reason: 'sold' })),
  receipts: [1, 2, 3].map((units) => JSON.stringify({ delta: units, reason: 'received' })),
  refused: JSON.stringify({ delta: -10_000_000, reason: 'sold' }),
};
const MIX_NOTE = 'mix: 45 % sales, 45 % receipts, 10 % refused sales';

const mixedBody = (): string => {
  const draw = Math.random();
  if (draw < 0.1) return MIX.refused;
  const units = Math.floor(Math.random() * 3);
  return (draw < 0.55 ? MIX.sales[units] : MIX.receipts[units]) ?? MIX.refused;
};

interface Seeded {
  items: { storeId: string; skuId: string; path: string }[];
}

/** Stores of 100 SKUs each, every SKU in its store with STARTING_QUANTITY units: created through the API. */
async function seed(server: ServerProcess, token: string, total: number): Promise<Seeded> {
  const stores = Math.max(1, Math.ceil(total / 100));
  const storeIds: string[] = [];
  for (let index = 0; index < stores; index += 1) {
    const created = await api<{ id: string }>(server.url, 'POST', '/api/stores', token, { name: `Bench store ${index + 1}` });
    if (created.status !== 201) throw new Error(`seed store: ${created.status} ${JSON.stringify(created.body)}`);
    storeIds.push(created.body.id);
  }
  const items: Seeded['items'] = [];
  let done = 0;
  await inParallel(
    Array.from({ length: total }, (_, index) => index),
    16,
    async (index) => {
      const sku = await api<{ id: string }>(server.url, 'POST', '/api/skus', token, {
        code: `BENCH-${String(index + 1).padStart(6, '0')}`,
        name: `Bench article ${index + 1}`,
        lowStockThreshold: 5,
      });
      if (sku.status !== 201) throw new Error(`seed SKU: ${sku.status} ${JSON.stringify(sku.body)}`);
      const storeId = storeIds[index % stores]!;
      const item = await api(server.url, 'POST', `/api/inventory/stores/${storeId}/items`, token, { skuId: sku.body.id, quantity: STARTING_QUANTITY });
      if (item.status !== 201) throw new Error(`seed item: ${item.status} ${JSON.stringify(item.body)}`);
      items.push({ storeId, skuId: sku.body.id, path: `/api/inventory/stores/${storeId}/items/${sku.body.id}` });
      done += 1;
      if (done % 250 === 0) progress(`${SECTION}: seeded ${count(done)} / ${count(total)} items`);
    },
  );
  return { items };
}

/** The classic peer's tables, with the same items and quantities. */
async function seedClassic(databaseUrl: string, items: Seeded['items']): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(classicSchema);
    await client.query('insert into classic_stock (store_id, sku_id, quantity) select * from unnest($1::uuid[], $2::uuid[], $3::bigint[])', [
      items.map((item) => item.storeId),
      items.map((item) => item.skuId),
      items.map(() => STARTING_QUANTITY),
    ]);
    await client.query('analyze classic_stock');
  } finally {
    await client.end();
  }
}

/** Checks one request of each kind against a server before it is measured: a cell of errors is worthless. */
async function probe(server: ServerProcess, token: string, path: string, subject: string): Promise<void> {
  const send = (body: string) =>
    fetch(`${server.url}${path}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  const sold = await send(MIX.sales[0]!);
  if (sold.status !== 200) throw new Error(`${subject}: a sale answered ${sold.status} ${await sold.text()}`);
  const received = await send(MIX.receipts[0]!);
  if (received.status !== 200) throw new Error(`${subject}: a receipt answered ${received.status} ${await received.text()}`);
  const refused = await send(MIX.refused);
  if (refused.status !== 409) throw new Error(`${subject}: a sale beyond the stock answered ${refused.status} ${await refused.text()}`);
  await refused.text();
}

const processesLabel = (processes: number): string => `${processes} process${processes === 1 ? '' : 'es'}`;

export async function runHttpWrite(config: BenchConfig): Promise<BenchRow[]> {
  const connections = config.httpConnections;
  const spreadScenario = `PATCH, ${count(config.httpItems)} items`;
  const hotScenario = 'PATCH, one hot item';
  const input = (scenario: string, subject: string) => ({ section: SECTION, scenario, subject, workers: connections });
  const cell = { connections, warmupSeconds: config.httpWarmupSeconds, seconds: config.seconds };
  const rows: BenchRow[] = [];

  // The limit of the HTTP part first, in its own process, while nothing else runs.
  rows.push(await emptyRouteRow(cell, input(`HTTP, ${connections} connections`, EMPTY), SECTION));

  const keyPrefix = `stockroom-bench-${randomBytes(4).toString('hex')}:`;
  const redis = (await redisReachable(config.redisUrl)) ? { url: config.redisUrl, keyPrefix } : null;
  if (!redis) progress(`${SECTION}: Redis at ${config.redisUrl} is not reachable: Stockroom runs without it (the denylist from PostgreSQL)`);
  const subjects = [STOCKROOM, CLASSIC] as const;
  const expected = config.httpProcesses.flatMap((processes) =>
    subjects.flatMap((subject) => [spreadScenario, hotScenario].map((scenario) => ({ scenario, subject: `${subject}, ${processesLabel(processes)}` }))),
  );
  try {
    await withFreshDatabase('http_write', async (database) => {
      await migrate(database.url);
      const token = await managerTokenAt(database.url);
      let seeded: Seeded;
      const seeder = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'write-api' });
      try {
        progress(`${SECTION}: seeding ${count(config.httpItems)} stock items through the API, and the classic peer's table with the same`);
        seeded = await seed(seeder, token, config.httpItems);
      } finally {
        await seeder.stop();
      }
      await seedClassic(database.url, seeded.items);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const paths = seeded.items.map((item) => item.path);
      const hot = paths[0];
      if (!hot) throw new Error('no item seeded');

      let turn = 0;
      for (const processes of config.httpProcesses) {
        // Every process's pools together hold what one process's hold: the database sees the same connections.
        const poolSize = Math.max(1, Math.ceil(config.httpPoolSize / processes));
        const order = turn % 2 === 0 ? subjects : ([...subjects].reverse() as (typeof subjects)[number][]);
        turn += 1;
        for (const base of order) {
          const subject = `${base}, ${processesLabel(processes)}`;
          try {
            const servers: ServerProcess[] = [];
            try {
              for (let index = 0; index < processes; index += 1) {
                servers.push(
                  await startServer(
                    base === STOCKROOM
                      ? { kind: 'app', databaseUrl: database.url, roles: 'write-api', poolSize, ...(redis ? { redis } : {}) }
                      : { kind: 'classic', databaseUrl: database.url, poolSize },
                  ),
                );
              }
              for (const server of servers) await probe(server, token, hot, subject);
              for (const [scenario, pick, streams] of [
                [spreadScenario, () => paths[Math.floor(Math.random() * paths.length)] ?? hot, `${count(paths.length)} items`],
                [hotScenario, () => hot, 'one item'],
              ] as const) {
                await checkpoint(database.url);
                progress(`${SECTION}: ${scenario}: ${subject}: ${config.httpWarmupSeconds} s warm-up + ${config.seconds} s`);
                const totals = async () =>
                  (await Promise.all(servers.map((server) => server.stats()))).reduce(
                    (sum, one) => ({ conflicts: sum.conflicts + one.conflicts, trips: sum.trips + one.trips, appends: sum.appends + one.appends }),
                    { conflicts: 0, trips: 0, appends: 0 },
                  );
                let before = { conflicts: 0, trips: 0, appends: 0 };
                const result = await runCannon({
                  ...cell,
                  server: servers,
                  databaseUrl: database.url,
                  headers,
                  refusalStatus: 409,
                  request: { method: 'PATCH', setupRequest: (request) => ({ ...request, path: pick(), body: mixedBody() }) },
                  onMeasureStart: async () => {
                    before = await totals();
                  },
                });
                const after = await totals();
                const lost = after.conflicts - before.conflicts;
                const trips = after.trips - before.trips;
                const perTrip = trips > 0 ? ((after.appends - before.appends) / trips).toFixed(1) : '–';
                progress(
                  `${SECTION}: ${scenario}: ${subject}: ${describeCannon(result)}${base === STOCKROOM ? `, ${count(lost)} appends lost a race, ${perTrip} appends per trip` : ''}`,
                );
                const notes = [
                  cpuSplit(result),
                  `${count(result.refusals)} refused (409, in ops/s)`,
                  MIX_NOTE,
                  streams,
                  `pool ${poolSize} per process${base === STOCKROOM ? ' (slonik and append pool each)' : ''}`,
                ];
                if (base === STOCKROOM) {
                  notes.push(`${count(lost)} appends lost a race to another process (${((lost / Math.max(1, result.operations)) * 100).toFixed(1)} per 100 commands) and were decided again`);
                  notes.push(`group commit: ${count(trips)} trips, ${perTrip} appends per trip`);
                  notes.push(redis ? 'Redis wired (denylist from Redis)' : 'no Redis (denylist from PostgreSQL)');
                } else {
                  notes.push('row lock: writers of one item wait for each other in PostgreSQL');
                }
                rows.push(toRow({ ...input(scenario, subject), result, note: notes.filter((note) => note !== '').join('; ') }));
              }
            } finally {
              await Promise.all(servers.map((server) => server.stop()));
            }
          } catch (error) {
            progress(`${SECTION}: ${subject} failed: ${describeError(error)}`);
            for (const scenario of [spreadScenario, hotScenario]) {
              if (!rows.some((row) => row.subject === subject && row.scenario === scenario)) rows.push(failedRow(input(scenario, subject), describeError(error)));
            }
          }
        }
      }
    });
  } catch (error) {
    progress(`${SECTION}: failed: ${describeError(error)}`);
    for (const { scenario, subject } of expected) {
      if (!rows.some((row) => row.subject === subject && row.scenario === scenario)) rows.push(failedRow(input(scenario, subject), describeError(error)));
    }
  } finally {
    if (redis) await deleteKeys(redis.url, redis.keyPrefix, SECTION);
  }
  // Stockroom's rows read against the peer with as many processes.
  return compareTo(rows, (row) =>
    row.subject.startsWith(`${STOCKROOM},`) && Number.isFinite(row.operationsPerSecond) ? row.subject.replace(STOCKROOM, CLASSIC) : null,
  );
}

const goals = (rows: BenchRow[]): string => {
  const one = processesLabel(1);
  const is = (scenario: string, subject: string) => (row: BenchRow) => row.scenario.startsWith(scenario) && row.subject === `${subject}, ${one}`;
  const spread = 'PATCH, ';
  const spreadRow = (subject: string) => (row: BenchRow) => is(spread, subject)(row) && !row.scenario.includes('hot');
  return formatGoals([
    rateGoal('HTTP write over the items ≥ 1.5× the classic route (1 process)', rows, spreadRow(STOCKROOM), spreadRow(CLASSIC), 1.5),
    rateGoal('HTTP write on one hot item ≥ 2× the classic route (1 process)', rows, is('PATCH, one hot item', STOCKROOM), is('PATCH, one hot item', CLASSIC), 2),
    p99Goal('HTTP write p99 < 20 ms at 64 connections (BENCH_HTTP_CONNECTIONS), over the items', rows, spreadRow(STOCKROOM), 20),
    p99Goal('HTTP write p99 < 20 ms at 64 connections (BENCH_HTTP_CONNECTIONS), one hot item', rows, is('PATCH, one hot item', STOCKROOM), 20),
  ]);
};

export const httpWriteSection: Section = {
  id: SECTION,
  title: 'HTTP write: stock adjustments (PATCH /api/inventory/stores/:storeId/items/:skuId), Stockroom beside the classic route',
  workersLabel: 'connections',
  run: ({ config }) => runHttpWrite(config),
  goals,
  legend: [
    'autocannon in the bench process, each server in a child process of its own (Stockroom: buildApp, ROLES=write-api; classic: a plain fastify route), PostgreSQL local.',
    'Every write cell sends the same mix to the same URLs: 45 % sales and 45 % receipts of 1–3 units, 10 % sales beyond the stock (refused: 409).',
    'ops/s: commands answered per second (2xx and the 409 refusals; the refusals are counted in the note) over the measured run, after a warm-up run;',
    'p50/p99: exact, from those answers\' response times. errors: any other answer and connection errors (a PATCH without If-Match retries a lost race itself).',
    'N processes: N servers on the same database, the connections split between them; the pools sized so that all N hold as many connections as one.',
    '"rate vs baseline" and "CPU/op vs baseline": Stockroom against the classic route with as many processes; client CPU: autocannon per answer;',
    'server CPU: the server processes + the database\'s PostgreSQL backends per answer (the split is in the note).',
  ].join('\n'),
};
