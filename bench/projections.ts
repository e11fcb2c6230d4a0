/**
 * The read side: how fast the PostgreSQL projector catches up, how fast the read API
 * answers point reads, and how long a command's change takes to become readable.
 *
 * (a) Catch-up. A valid history of 1,000,000 events (BENCH_CATCHUP_EVENTS) is generated
 *     (stores, SKUs, StockItemAdded for 10 × 1,000 items, then StockAdjusted with correct
 *     quantityAfter) and loaded into es_events with COPY through pg, bypassing es_append.
 *     Then `rebuildReadModel` replays it through the real gap-safe subscription into the
 *     PostgreSQL read model, in batches of 5,000 (partition 0, as a Kafka batch is applied).
 *     Beside it: the same subscription reading only (diagnostic), and the baseline, a COPY
 *     of as many rows of the `stock` columns into an unindexed table.
 *     The Redis hot model is then filled from the same events by RedisProjector.rebuild().
 *     The peer: a naive projector, one event per transaction (support/naive-projector.ts).
 * (a') The same catch-up (rebuild, naive peer, COPY) of a history appended through
 *     es_append by 16 concurrent writers, with the holes in the positions that leaves
 *     (BENCH_CATCHUP_APPENDED events, default 100,000; support/appended-history.ts).
 * (b) Point reads over HTTP on that read model (buildApp with ROLES=read-api, in a child
 *     process): one item and one store's page of 50 from PostgreSQL (no Redis), one item
 *     with Redis wired as main.ts wires REDIS_URL; beside their peers (plain fastify routes
 *     with @fastify/jwt: HGETALL of the same hot model, the same page with `pg`;
 *     support/classic-server.ts), an empty fastify route (once at one fixed path without
 *     headers, once given the point read's own requests: its URLs and bearer token, so that
 *     the client's work is the same and only the server's differs) and a bare Redis GET.
 * (c) Freshness through the real broker: app, forwarder, Kafka (a topic and consumer group
 *     of the bench's own) and projector in this process; a PATCH, then the time until the
 *     read model's watermark reaches its position, and until a GET with X-Min-Position
 *     answers.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis as IORedis } from 'ioredis';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { buildApp } from '../src/app.js';
import { Forwarder } from '../src/projections/forwarder.js';
import { ensureReadModelSchema } from '../src/projections/postgres/read-model-schema.js';
import { rebuildReadModel } from '../src/projections/postgres/rebuild.js';
import { startPostgresProjector } from '../src/projections/postgres/run.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createAppendPool, createDatabasePool, type DatabasePool } from '../src/shared/db/pool.js';
import type { BusSubscription } from '../src/shared/event-bus/port.js';
import { catchUp as catchUpStore } from '../src/shared/event-store/catch-up.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { RedisReadModel } from '../src/shared/hot-model/redis-read-model.js';
import { createRedis, type Redis } from '../src/shared/redis.js';
import { RedisProjector } from '../src/projections/redis/projector.js';
import type { BenchConfig } from './support/config.js';
import { benchBus, deleteTopic, messagesOnTopic, NO_BROKER } from './support/kafka.js';
import { type Hops, TracingBus } from './support/bus-trace.js';
import { deleteKeys } from './support/redis-keys.js';
import { WATERMARK_INTERVAL_MS } from '../src/shared/event-bus/kafka.js';
import { copyFrom, recordStreamRevisions } from './support/copy.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { type BenchDatabase, checkpoint, withFreshDatabase } from './support/database.js';
import { cpuSplit, describeCannon, emptyRouteRow, runCannon, type ServerProcess, startServer } from './support/http.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, formatGoals, minimumRateGoal, rateGoal, type RowInput, type Section, toRow } from './support/report.js';
import { runTimed, type TimedRunResult } from './support/runner.js';
import { serverCpuProbe } from './support/server-cpu.js';
import { appendHistory } from './support/appended-history.js';
import { naiveConnections, naiveProjector } from './support/naive-projector.js';
import { ES_EVENTS_COPY, historyShape, type StockHistory, stockHistory, stockRowChunks } from './support/stock-history.js';
import { benchConfig, JWT_SECRET, managerToken, managerTokenAt } from './support/stockroom.js';
import { readModelProjections } from '../src/projections/postgres/read-model-projections.js';

const SECTION = 'projections';
const FRESHNESS_SECTION = 'freshness';
const COPY_BASELINE = 'COPY into an unindexed table';
const EMPTY = 'empty fastify route';
const EMPTY_SAME = "empty fastify route, the point read's requests";
const REDIS_GET = 'bare Redis GET (ioredis)';
const ITEM_PG = 'GET one item, PostgreSQL';
const PAGE_PG = 'GET a store page of 50, PostgreSQL';
const ITEM_REDIS = 'GET one item, Redis hot model';
const PAGE_PEER = 'peer: plain fastify route, store page of 50 from PostgreSQL';
const REDIS_PEER = 'peer: plain fastify route, one item from Redis (HGETALL)';
const ROWS_PER_CHUNK = 5_000;
const NAIVE = 'peer: naive projector, one UPDATE per event in its own transaction';
const REBUILD = 'rebuildReadModel → PostgresProjector';

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Passes the chunks through, reporting every tenth of `total` rows on stderr. */
function* reporting(chunks: Iterable<string>, total: number, label: string): Generator<string> {
  const began = performance.now();
  let rows = 0;
  let next = total / 10;
  for (const chunk of chunks) {
    yield chunk;
    rows = Math.min(total, rows + ROWS_PER_CHUNK);
    if (rows >= next || rows === total) {
      progress(`${SECTION}: ${label} ${count(rows)} / ${count(total)} rows (${count(rows / ((performance.now() - began) / 1000))} rows/s)`);
      next += total / 10;
    }
  }
}

/** A measured stretch of work: wall time, this process's CPU and the database's backends' CPU. */
async function measured<T>(
  url: string,
  operations: () => number,
  work: (latency: LatencyHistogram) => Promise<T>,
): Promise<{ value: T; result: TimedRunResult }> {
  const probe = await serverCpuProbe(url);
  try {
    await probe.open();
    const latency = new LatencyHistogram();
    const before = cpuSnapshot();
    const began = performance.now();
    const value = await work(latency);
    const seconds = (performance.now() - began) / 1000;
    const after = cpuSnapshot();
    const server = await probe.close().catch(() => null);
    const done = operations();
    return {
      value,
      result: {
        operations: done,
        errors: 0,
        firstError: null,
        elapsedSeconds: seconds,
        operationsPerSecond: done / seconds,
        latency: latency.summary(),
        cpu: cpuBetween(before, after, done, availableParallelism()),
        serverCpuMicrosPerOp: server === null || done === 0 ? null : server / done,
      },
    };
  } finally {
    await probe.end();
  }
}

const describeRate = (result: TimedRunResult): string =>
  `${count(result.operationsPerSecond)} events/s in ${result.elapsedSeconds.toFixed(1)} s, client ${result.cpu.clientMicrosPerOp.toFixed(1)} µs/event` +
  (result.serverCpuMicrosPerOp === null ? '' : `, server ${result.serverCpuMicrosPerOp.toFixed(1)} µs/event`);

/** The Redis the bench uses for the hot model: the app's client (createRedis) under the bench's own key prefix. */
interface HotRedis {
  client: Redis;
  url: string;
  keyPrefix: string;
}

/** CPU Redis has used so far (INFO cpu: user + system), microseconds; the server may be shared. */
async function redisCpuMicros(redis: Redis | IORedis): Promise<number | null> {
  try {
    const text = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    const seconds = field('used_cpu_user') + field('used_cpu_sys');
    return Number.isFinite(seconds) ? seconds * 1e6 : null;
  } catch {
    return null;
  }
}

/** Waits until a client made by createRedis (no offline queue) is connected. */
async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready within ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const readModelRow = z.object({ items: z.bigint(), units: z.bigint().nullable(), through: z.bigint().nullable() });

/** (a) Loads the history, replays it, and measures the COPY baseline; leaves the database for (b). */
async function catchUp(config: BenchConfig, database: BenchDatabase, history: StockHistory, hot: HotRedis | null): Promise<BenchRow[]> {
  const total = history.shape.events;
  const scenario = `catch-up, ${count(total)} events`;
  const input = (subject: string, diagnostic = false): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1, diagnostic });
  const rows: BenchRow[] = [];
  await migrate(database.url);

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  let loadNote: string;
  try {
    progress(`${SECTION}: loading ${count(total)} events (${history.shape.stores} stores, ${count(history.items.length)} items) into es_events with COPY, bypassing es_append`);
    const began = performance.now();
    const loaded = await copyFrom(client, ES_EVENTS_COPY, reporting(history.chunks(ROWS_PER_CHUNK), total, 'es_events:'));
    await recordStreamRevisions(client, history.streamRevisions());
    const seconds = (performance.now() - began) / 1000;
    loadNote = `loaded by COPY in ${seconds.toFixed(1)} s (${count(loaded / seconds)} events/s, es_events with its 3 indexes)`;
    progress(`${SECTION}: ${loadNote}`);
    // This server runs without autovacuum: give the planner the statistics production would have.
    await client.query('analyze');
  } finally {
    await client.end();
  }

  const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
  // As the app opens its store (main.ts): the plain pool serves appends, stream reads and the subscription's pages.
  const plain = createAppendPool(database.url, 2);
  try {
    const store = new PostgresEventStore(pool, plain);
    const head = await store.headPosition();
    const batchSize = config.catchupBatch;

    // Diagnostic: the subscription alone (catchUp, as the rebuilds read), delivering to a no-op.
    if (!config.pointReadsOnly) {
      await checkpoint(database.url);
      progress(`${SECTION}: reading every event through the subscription (batches of ${count(batchSize)}), applying nothing`);
      let read = 0;
      const reading = await measured(database.url, () => read, async (latency) => {
        let last = performance.now();
        let next = total / 5;
        await catchUpStore(store, {
          after: 0n,
          batchSize,
          onEvents: async (batch) => {
            const now = performance.now();
            latency.record(now - last);
            last = now;
            read += batch.length;
            if (read >= next) {
              progress(`${SECTION}: read ${count(read)} / ${count(total)} events`);
              next += total / 5;
            }
          },
        });
      });
      progress(`${SECTION}: subscription read: ${describeRate(reading.result)}`);
      rows.push(toRow({ ...input('subscription, reading only', true), result: reading.result, note: `p50/p99 per batch of ${count(batchSize)}` }));
    }

    // The projector: rebuildReadModel, the real subscription into PostgresProjector.applyBatch.
    await checkpoint(database.url);
    progress(`${SECTION}: catching up: rebuildReadModel over ${count(total)} events, batches of ${count(batchSize)}`);
    let applied = 0;
    const rebuilding = await measured(database.url, () => applied, async (latency) => {
      let last = performance.now();
      let next = total / 10;
      const result = await rebuildReadModel({
        databaseUrl: database.url,
        pool,
        store,
        projections: readModelProjections,
        batchSize,
        progress: (report) => {
          const now = performance.now();
          latency.record(now - last);
          last = now;
          applied = report.events;
          if (report.events >= next) {
            progress(`${SECTION}: caught up ${count(report.events)} / ${count(total)} events (${count(report.eventsPerSecond)} events/s so far)`);
            next += total / 10;
          }
        },
      });
      applied = result.events;
      return result;
    });
    // Production's autovacuum would analyze the fresh tables soon after; this server runs without it.
    await pool.query(sql.unsafe`analyze read_model.stock, read_model.skus, read_model.stores, read_model.stock_summary`);
    const check = readModelRow.parse(
      await pool.one(sql.unsafe`
        select (select count(*) from read_model.stock)::bigint as items,
               (select sum(quantity) from read_model.stock)::bigint as units,
               (select min(through) from read_model.progress)::bigint as through`),
    );
    const correct =
      Number(check.items) === history.items.length && Number(check.units ?? -1) === history.totalQuantity() && check.through === head;
    const checkNote = correct
      ? `read model checked: ${count(history.items.length)} items, ${count(history.totalQuantity())} units, through ${count(Number(head))}`
      : `READ MODEL WRONG: ${check.items} items (expected ${history.items.length}), ${check.units} units (expected ${history.totalQuantity()}), through ${check.through} (head ${head})`;
    progress(`${SECTION}: rebuildReadModel: ${describeRate(rebuilding.result)}; ${checkNote}`);
    rows.push(
      toRow({
        ...input('rebuildReadModel → PostgresProjector'),
        result: correct ? rebuilding.result : { ...rebuilding.result, errors: 1, firstError: checkNote },
        note: `p50/p99 per batch of ${count(batchSize)}; ${checkNote}; ${loadNote}`,
      }),
    );

    // The Redis hot model, filled the way a Redis projector fills an empty Redis: RedisProjector.rebuild().
    const redisSubject = 'RedisProjector.rebuild (hot model)';
    if (hot) {
      try {
        await checkpoint(database.url);
        progress(`${SECTION}: rebuilding the Redis hot model from the ${count(total)} events (RedisProjector.rebuild, its defaults)`);
        const redisCpuBefore = await redisCpuMicros(hot.client);
        const hotRebuild = await measured(database.url, () => total, () =>
          new RedisProjector(hot.client, store).rebuild(),
        );
        const redisCpuAfter = await redisCpuMicros(hot.client);
        // Every item, read back through the read API's own Redis reader.
        const reader = new RedisReadModel(hot.client);
        let units = 0;
        let missing = 0;
        for (let start = 0; start < history.items.length; start += 500) {
          const found = await Promise.all(history.items.slice(start, start + 500).map((item) => reader.item(item.storeId, item.skuId)));
          for (const item of found) {
            if (item) units += item.quantity;
            else missing += 1;
          }
        }
        const redisCheck =
          missing === 0 && units === history.totalQuantity()
            ? `hot model checked: ${count(history.items.length)} items, ${count(units)} units`
            : `HOT MODEL WRONG: ${missing} items missing, ${count(units)} units (expected ${count(history.totalQuantity())})`;
        const redisCpu =
          redisCpuBefore === null || redisCpuAfter === null ? '' : `; Redis ${((redisCpuAfter - redisCpuBefore) / total).toFixed(1)} µs/event (not in the CPU columns)`;
        progress(`${SECTION}: Redis rebuild: ${describeRate(hotRebuild.result)}; ${redisCheck}`);
        rows.push(
          toRow({
            ...input(redisSubject),
            result: redisCheck.startsWith('HOT MODEL WRONG') ? { ...hotRebuild.result, errors: 1, firstError: redisCheck } : hotRebuild.result,
            note: `reads every event (pages of 1,000), folds the items in memory, writes them in scripts of 200 items; ${redisCheck}${redisCpu}`,
          }),
        );
      } catch (error) {
        progress(`${SECTION}: Redis rebuild failed: ${describeError(error)}`);
        rows.push(failedRow(input(redisSubject), describeError(error)));
      }
    } else {
      rows.push(failedRow(input(redisSubject), `Redis at ${config.redisUrl} is not reachable`));
    }
  } finally {
    await plain.end();
    await pool.end();
  }

  // BENCH_POINT_READS_ONLY: the model the point reads need is built; its peers are skipped.
  if (config.pointReadsOnly) return rows;
  rows.push(await naiveRow(config, database, input(NAIVE), { items: history.items.length, units: history.totalQuantity() }));
  rows.unshift(await copyBaselineRow(database, total, input(COPY_BASELINE)));
  return compareTo(rows, () => COPY_BASELINE);
}

/**
 * (a') Catch-up of a history appended through es_append by concurrent writers (the gaps and
 * the out-of-order rows that leaves), on a database of its own: Stockroom's rebuild beside the
 * naive peer and the COPY limit.
 */
async function catchUpAppended(config: BenchConfig): Promise<BenchRow[]> {
  const wanted = config.catchupAppended;
  const writers = 16;
  const scenario = `catch-up, ${count(wanted)} events appended by ${writers} concurrent writers`;
  const input = (subject: string): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1 });
  try {
    return await withFreshDatabase('catchup_appended', async (database) => {
      await migrate(database.url);
      const rows: BenchRow[] = [];
      const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
      const appendPool = createAppendPool(database.url, writers);
      try {
        progress(`${SECTION}: appending ${count(wanted)} events through es_append, ${writers} concurrent writers`);
        const began = performance.now();
        const history = await appendHistory({
          pool,
          appendPool,
          events: wanted,
          writers,
          progress: (appended, total) => progress(`${SECTION}: appended ${count(appended)} / ${count(total)} events (${count(appended / ((performance.now() - began) / 1000))} events/s)`),
        });
        const store = new PostgresEventStore(pool, appendPool);
        const head = await store.headPosition();
        const gaps = Number(head) - history.events;
        const seedNote = `${count(history.events)} events appended in ${((performance.now() - began) / 1000).toFixed(1)} s; ${count(history.conflicts)} appends lost a race (the writer drew again); ${count(gaps)} unused positions (appends rolled back)`;
        progress(`${SECTION}: ${seedNote}`);
        await pool.query(sql.unsafe`analyze`);

        await checkpoint(database.url);
        progress(`${SECTION}: ${REBUILD} over the appended events`);
        let applied = 0;
        const rebuilding = await measured(database.url, () => applied, async (latency) => {
          let last = performance.now();
          const result = await rebuildReadModel({
            databaseUrl: database.url,
            pool,
            store,
            projections: readModelProjections,
            batchSize: config.catchupBatch,
            progress: (report) => {
              const now = performance.now();
              latency.record(now - last);
              last = now;
              applied = report.events;
            },
          });
          applied = result.events;
        });
        const check = readModelRow.parse(
          await pool.one(sql.unsafe`
            select (select count(*) from read_model.stock)::bigint as items,
                   (select sum(quantity) from read_model.stock)::bigint as units,
                   (select min(through) from read_model.progress)::bigint as through`),
        );
        const correct = Number(check.items) === history.items.length && Number(check.units ?? -1) === history.totalQuantity && check.through === head;
        const checkNote = correct
          ? `read model checked: ${count(history.items.length)} items, ${count(history.totalQuantity)} units, through ${count(Number(head))}`
          : `READ MODEL WRONG: ${check.items} items (expected ${history.items.length}), ${check.units} units (expected ${history.totalQuantity}), through ${check.through} (head ${head})`;
        progress(`${SECTION}: ${REBUILD} (appended): ${describeRate(rebuilding.result)}; ${checkNote}`);
        rows.push(
          toRow({
            ...input(REBUILD),
            result: correct ? rebuilding.result : { ...rebuilding.result, errors: 1, firstError: checkNote },
            note: `p50/p99 per batch of ${count(config.catchupBatch)}; ${checkNote}; ${seedNote}`,
          }),
        );
        rows.push(await naiveRow(config, database, input(NAIVE), { items: history.items.length, units: history.totalQuantity }));
        rows.unshift(await copyBaselineRow(database, history.events, input(COPY_BASELINE)));
      } finally {
        await appendPool.end();
        await pool.end();
      }
      return compareTo(rows, () => COPY_BASELINE);
    });
  } catch (error) {
    progress(`${SECTION}: appended catch-up failed: ${describeError(error)}`);
    return [failedRow(input(REBUILD), describeError(error)), failedRow(input(NAIVE), describeError(error))];
  }
}

/** The peer: one transaction per event (bench/support/naive-projector.ts), checked against the expected totals when it finishes. */
async function naiveRow(config: BenchConfig, database: BenchDatabase, input: Omit<RowInput, 'result'>, expected: { items: number; units: number }): Promise<BenchRow> {
  const budgetSeconds = Math.max(10, 4 * config.seconds);
  try {
    await checkpoint(database.url);
    progress(`${SECTION}: ${input.subject}: at most ${budgetSeconds} s`);
    let applied = 0;
    let next = 5_000;
    const connections = await naiveConnections(database.url);
    const run = await measured(database.url, () => applied, (latency) =>
      naiveProjector({
        ...connections,
        budgetMs: budgetSeconds * 1000,
        latency,
        onApplied: (done) => {
          applied = done;
          if (done >= next) {
            progress(`${SECTION}: ${input.subject}: ${count(done)} events applied`);
            next *= 2;
          }
        },
      }),
    ).finally(() => connections.end());
    const outcome = run.value;
    const correct = !outcome.complete || (outcome.items === expected.items && outcome.units === expected.units);
    const checkNote = outcome.complete
      ? correct
        ? `every event applied; checked: ${count(outcome.items)} items, ${count(outcome.units)} units`
        : `NAIVE MODEL WRONG: ${outcome.items} items, ${outcome.units} units (expected ${expected.items}, ${expected.units})`
      : `stopped after ${budgetSeconds} s at ${count(outcome.applied)} events (the same work per event: the rate holds)`;
    progress(`${SECTION}: ${input.subject}: ${describeRate(run.result)}; ${checkNote}`);
    return toRow({
      ...input,
      result: correct ? run.result : { ...run.result, errors: 1, firstError: checkNote },
      note: `p50/p99 per event (one transaction each: BEGIN, INSERT/UPDATE, checkpoint UPDATE, COMMIT); stock level only; ${checkNote}`,
    });
  } catch (error) {
    progress(`${SECTION}: ${input.subject} failed: ${describeError(error)}`);
    return failedRow(input, describeError(error));
  }
}

/** The limit: as many rows of the read model's stock columns, COPYed into a table without any index. */
async function copyBaselineRow(database: BenchDatabase, total: number, input: Omit<RowInput, 'result'>): Promise<BenchRow> {
  const rows: BenchRow[] = [];

  // The baseline: as many rows of the read model's stock columns, COPYed into a table without any index.
  const baseline = new pg.Client({ connectionString: database.url });
  await baseline.connect();
  try {
    await baseline.query(`
      create table bench_copy_baseline (
        store_id uuid, sku_id uuid, quantity bigint, low_stock_threshold integer,
        removed boolean, revision bigint, position bigint, updated_at timestamptz
      )`);
    await checkpoint(database.url);
    progress(`${SECTION}: baseline: COPY of ${count(total)} stock rows into an unindexed table`);
    let copied = 0;
    const copying = await measured(database.url, () => copied, async () => {
      copied = await copyFrom(
        baseline,
        'copy bench_copy_baseline (store_id, sku_id, quantity, low_stock_threshold, removed, revision, position, updated_at) from stdin',
        reporting(stockRowChunks(total, ROWS_PER_CHUNK), total, 'baseline:'),
      );
    });
    progress(`${SECTION}: baseline COPY: ${describeRate(copying.result)}`);
    rows.unshift(toRow({ ...input, result: copying.result, note: 'rows generated in this process while copying, as for es_events' }));
    await baseline.query('drop table bench_copy_baseline');
  } finally {
    await baseline.end();
  }
  return rows[0] ?? failedRow(input, 'no row');
}

/** (b) Point reads over HTTP on the caught-up read model, beside their peers and the baselines. */
async function pointReads(config: BenchConfig, database: BenchDatabase, history: StockHistory, hot: HotRedis | null): Promise<BenchRow[]> {
  const connections = config.httpConnections;
  const scenario = `point reads, ${connections} connections`;
  const input = (subject: string): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: connections });
  const cell = { connections, warmupSeconds: config.warmupSeconds, seconds: config.seconds };
  const rows: BenchRow[] = [];

  rows.push(await emptyRouteRow(cell, input(EMPTY), SECTION));

  const itemPaths = history.items.map((item) => `/api/inventory/stores/${item.storeId}/items/${item.skuId}`);
  const pagePaths = history.storeIds.map((storeId) => `/api/inventory/stores/${storeId}?limit=50`);
  const anItem = (body: unknown) => z.object({ quantity: z.int() }).safeParse(body).success;
  const aPage = (body: unknown) => z.object({ items: z.array(z.unknown()).length(Math.min(50, history.skuIds.length)) }).safeParse(body).success;
  const itemNote = `random one of ${count(itemPaths.length)} items`;
  const pageNote = `random one of ${pagePaths.length} stores of ${count(history.skuIds.length)} items, first page sorted by code`;

  // The servers, started when a cell first needs them and stopped at the end.
  type Kind = 'stockroom' | 'stockroom-redis' | 'classic';
  const started = new Map<Kind, ServerProcess>();
  const serverOf = async (kind: Kind): Promise<ServerProcess> => {
    const running = started.get(kind);
    if (running) return running;
    if (kind !== 'stockroom' && !hot) throw new Error(`Redis at ${config.redisUrl} is not reachable`);
    if (kind === 'stockroom-redis') {
      const first = history.items[0];
      if (!hot || !first || (await new RedisReadModel(hot.client).item(first.storeId, first.skuId)) == null) {
        throw new Error('the Redis hot model does not answer (its rebuild failed?)');
      }
    }
    const redis = hot ? { url: hot.url, keyPrefix: hot.keyPrefix } : undefined;
    const server = await startServer(
      kind === 'stockroom'
        ? { kind: 'app', databaseUrl: database.url, roles: 'read-api' }
        : kind === 'stockroom-redis'
          ? { kind: 'app', databaseUrl: database.url, roles: 'read-api', ...(redis ? { redis } : {}) }
          : // The read API's slonik pool holds 20 connections: the peer's pg pool as many.
            { kind: 'classic', databaseUrl: database.url, poolSize: 20, ...(redis ? { redis } : {}) },
    );
    started.set(kind, server);
    return server;
  };

  interface ReadCell {
    subject: string;
    kind: Kind;
    paths: readonly string[];
    check: (body: unknown) => boolean;
    note: string;
    /** Whether its reads go to Redis (its CPU then read around the run). */
    redis?: boolean;
  }
  // Each Stockroom cell beside its peer, the pair's order alternating.
  // BENCH_READ_CELLS picks pairs: item (PostgreSQL), page (with its peer), redis (with its peer).
  const allCells: (ReadCell & { pair: string })[] = [
    { pair: 'item', subject: ITEM_PG, kind: 'stockroom', paths: itemPaths, check: anItem, note: itemNote },
    { pair: 'page', subject: PAGE_PG, kind: 'stockroom', paths: pagePaths, check: aPage, note: pageNote },
    { pair: 'page', subject: PAGE_PEER, kind: 'classic', paths: pagePaths, check: aPage, note: `${pageNote}; pg, the read API's query shape (stock join skus, limit 51), JSON.stringify` },
    { pair: 'redis', subject: REDIS_PEER, kind: 'classic', paths: itemPaths, check: anItem, note: `${itemNote}; HGETALL of the hot model's hash, JSON.stringify`, redis: true },
    { pair: 'redis', subject: ITEM_REDIS, kind: 'stockroom-redis', paths: itemPaths, check: anItem, note: `${itemNote}; denylist from Redis too`, redis: true },
  ];
  const cells: ReadCell[] = allCells.filter((cell) => !config.readCells || config.readCells.includes(cell.pair));

  try {
    const token = await managerTokenAt(database.url);
    const headers = { authorization: `Bearer ${token}` };
    if (cells.some((read) => read.paths === itemPaths)) {
      const note = `the point read's URL (${itemNote}) and bearer token, answered {} without a check or a read`;
      rows.push(await emptyRouteRow(cell, input(EMPTY_SAME), SECTION, { paths: itemPaths, headers, note }));
    }
    for (const { subject, kind, paths, check, note, redis } of cells) {
      try {
        const server = await serverOf(kind);
        // One request first: a cell that answered only errors would be worthless.
        const response = await fetch(`${server.url}${paths[0]}`, { headers });
        const body: unknown = await response.json();
        if (response.status !== 200 || !check(body)) throw new Error(`GET ${paths[0]}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
        await checkpoint(database.url);
        progress(`${SECTION}: ${subject}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        const redisCpuAt: { before: number | null } = { before: null };
        const result = await runCannon({
          ...cell,
          server,
          databaseUrl: database.url,
          headers,
          request: { method: 'GET', setupRequest: (request) => ({ ...request, path: paths[Math.floor(Math.random() * paths.length)] ?? paths[0] }) },
          onMeasureStart: async () => {
            redisCpuAt.before = hot ? await redisCpuMicros(hot.client) : null;
          },
        });
        const redisAfter = hot ? await redisCpuMicros(hot.client) : null;
        // INFO cpu around the measured run only; the Redis server may be shared.
        const redisCpu =
          !redis || redisCpuAt.before === null || redisAfter === null || result.operations === 0
            ? ''
            : ` + Redis ~${Math.round((redisAfter - redisCpuAt.before) / result.operations)} µs (not in the column)`;
        progress(`${SECTION}: ${subject}: ${describeCannon(result)}`);
        rows.push(toRow({ ...input(subject), result, note: `${cpuSplit(result)}${redisCpu}; ${note}` }));
      } catch (error) {
        progress(`${SECTION}: ${subject} failed: ${describeError(error)}`);
        rows.push(failedRow(input(subject), describeError(error)));
      }
    }
  } catch (error) {
    progress(`${SECTION}: point reads failed: ${describeError(error)}`);
    for (const { subject } of cells) {
      if (!rows.some((row) => row.subject === subject)) rows.push(failedRow(input(subject), describeError(error)));
    }
  } finally {
    await Promise.all([...started.values()].map((server) => server.stop()));
  }

  const prefix = `stockroom-bench-${randomBytes(4).toString('hex')}:`;
  const redis = new IORedis(config.redisUrl, { keyPrefix: prefix, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const item = history.items[0];
    await redis.set('item', JSON.stringify({ storeId: item?.storeId, skuId: item?.skuId, quantity: 120, lowStockThreshold: 5, revision: 42 }));
    progress(`${SECTION}: ${REDIS_GET}: ${connections} callers, ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
    const result = await runTimed({
      workers: connections,
      warmupMs: config.warmupSeconds * 1000,
      durationMs: config.seconds * 1000,
      createWorker: () => async () => {
        if ((await redis.get('item')) === null) throw new Error('the key is gone');
      },
    });
    progress(`${SECTION}: ${REDIS_GET}: ${count(result.operationsPerSecond)} ops/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms`);
    rows.push(toRow({ ...input(REDIS_GET), result, note: `one key of ~150 bytes, ${connections} concurrent callers on one connection, in this process` }));
  } catch (error) {
    rows.push(failedRow(input(REDIS_GET), describeError(error)));
  } finally {
    await redis.del('item').catch(() => {});
    redis.disconnect();
  }
  return compareTo(rows, (row) => (row.subject === REDIS_GET || !Number.isFinite(row.operationsPerSecond) ? null : EMPTY));
}

const quiet = { info() {}, warn() {}, error() {} };

const freshRow = (input: Omit<RowInput, 'result'>, histogram: LatencyHistogram, errors: number, firstError: string | null, note: string): BenchRow =>
  toRow({
    ...input,
    note,
    result: {
      operations: histogram.count,
      errors,
      firstError,
      elapsedSeconds: Number.NaN,
      operationsPerSecond: Number.NaN,
      latency: histogram.summary(),
      cpu: { clientMicrosPerOp: Number.NaN, hostBusyPercent: null, hostMicrosPerOp: null },
      serverCpuMicrosPerOp: null,
    },
  });

const watchRow = z.object({ forwarded: z.string().nullable(), first: z.string().nullable(), all: z.string().nullable() });

/**
 * (c) From a command's answer to its change being readable, through Kafka, with the bus
 * sending watermarks every `watermarkIntervalMs` at most (0: with every batch, the design
 * before issue 9, as the peer of the one in use).
 */
async function freshness(config: BenchConfig, watermarkIntervalMs: number): Promise<BenchRow[]> {
  const partitions = config.kafkaPartitions;
  const policy =
    watermarkIntervalMs === 0
      ? 'watermarks with every batch (before)'
      : `watermarks when idle or every ${watermarkIntervalMs} ms${watermarkIntervalMs === WATERMARK_INTERVAL_MS ? ' (now)' : ''}`;
  const scenario = `command answered → readable (Kafka, ${partitions} partitions, ${policy})`;
  const input = (subject: string, diagnostic = false): Omit<RowInput, 'result'> => ({ section: FRESHNESS_SECTION, scenario, subject, workers: 1, diagnostic });
  const subjects = {
    forwarded: 'forwarder has put it on Kafka',
    first: 'first partition applied',
    watermark: 'watermark reached (min over partitions)',
    api: 'GET with X-Min-Position answered',
  };
  const brokers = config.kafkaBrokers;
  if (!brokers) {
    return [failedRow(input(subjects.watermark), NO_BROKER), failedRow(input(subjects.api), NO_BROKER)];
  }
  const tag = randomBytes(4).toString('hex');
  const topic = `stockroom-bench-${tag}`;
  const group = `stockroom-bench-projector-${tag}`;
  try {
    return await withFreshDatabase('freshness', async (database) => {
      await migrate(database.url);
      await ensureReadModelSchema(database.url);
      const pool: DatabasePool = await createDatabasePool(database.url);
      const store = new PostgresEventStore(pool);
      const bus = benchBus(FRESHNESS_SECTION, brokers, topic, partitions, watermarkIntervalMs);
      // The forwarder and the projector go through it: each hop of a command timed.
      const traced = new TracingBus(bus);
      let forwarder: Forwarder | null = null;
      let projector: BusSubscription | null = null;
      const app = await buildApp({ config: benchConfig('write-api,read-api'), pool, eventStore: store, jwtSecret: JWT_SECRET, logger: false, databaseUrl: database.url });
      const watch = new pg.Client({ connectionString: database.url });
      try {
        // The loop of startBackground, with a topic and a consumer group of the bench's own.
        await bus.ensureTopic();
        forwarder = new Forwarder({ store, bus: traced, pool, databaseUrl: database.url, log: quiet });
        forwarder.start();
        projector = await startPostgresProjector({ bus: traced, pool, store, projections: readModelProjections, log: quiet, group });
        const token = await managerToken(pool);
        const headers = { authorization: `Bearer ${token}` };
        const post = async <T>(url: string, payload: object): Promise<T> => {
          const response = await app.inject({ method: 'POST', url, headers, payload });
          if (response.statusCode !== 201) throw new Error(`POST ${url}: ${response.statusCode} ${response.body}`);
          return response.json<T>();
        };
        const { id: storeId } = await post<{ id: string }>('/api/stores', { name: 'Freshness store' });
        // Items spread over the partitions (a stream's partition follows its id).
        const items: string[] = [];
        for (let index = 0; index < 60; index += 1) {
          const { id: skuId } = await post<{ id: string }>('/api/skus', { code: `FRESH-${index}`, name: `Fresh ${index}`, lowStockThreshold: 1 });
          await post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 100 });
          items.push(`/api/inventory/stores/${storeId}/items/${skuId}`);
        }

        await watch.connect();
        const positions = async () => {
          const { rows } = await watch.query({
            name: 'bench-watch',
            text: `select (select position from projection_checkpoints where name = 'forwarder')::text as forwarded,
                          (select max(through) from read_model.progress)::text as first,
                          (select min(through) from read_model.progress)::text as "all"`,
          });
          const row = watchRow.parse(rows[0]);
          return { forwarded: BigInt(row.forwarded ?? 0), first: BigInt(row.first ?? 0), all: BigInt(row.all ?? 0) };
        };
        const head = await store.headPosition();
        progress(`${FRESHNESS_SECTION}: waiting for the projector to join its group and apply the seed (position ${head})`);
        const joinDeadline = Date.now() + 60_000;
        while ((await positions()).all < head) {
          if (Date.now() > joinDeadline) throw new Error('the projector did not catch up with the seed within 60 s');
          await sleep(50);
        }

        const histograms = { forwarded: new LatencyHistogram(), first: new LatencyHistogram(), watermark: new LatencyHistogram(), api: new LatencyHistogram() };
        let errors = 0;
        let firstError: string | null = null;
        const fail = (message: string) => {
          errors += 1;
          firstError ??= message;
        };
        const patch = async () => {
          const url = items[Math.floor(Math.random() * items.length)]!;
          const response = await app.inject({ method: 'PATCH', url, headers, payload: { delta: 1, reason: 'received' } });
          const answeredAt = performance.now();
          if (response.statusCode !== 200) throw new Error(`PATCH: ${response.statusCode} ${response.body}`);
          const body = response.json<{ position: string; quantity: number }>();
          return { url, answeredAt, position: BigInt(body.position), quantity: body.quantity };
        };

        const topicCount = async () => ({ messages: await messagesOnTopic(brokers, topic), events: Number(await store.headPosition()) });
        const perEvent = (from: { messages: number; events: number }, to: { messages: number; events: number }) => {
          const messages = to.messages - from.messages;
          const events = to.events - from.events;
          return `${messages} messages for ${events} events (${(messages / Math.max(1, events)).toFixed(2)} per event)`;
        };
        const afterSeed = await topicCount();
        traced.clear();
        const timed: { position: bigint; answeredAt: number }[] = [];
        const samples = config.freshnessSamples;
        progress(`${FRESHNESS_SECTION}: ${samples} commands, polling the watermark every ~1 ms`);
        for (let index = 0; index < samples; index += 1) {
          // A random pause: commands must not fall in step with the pollers' intervals.
          await sleep(Math.random() * 20);
          try {
            const command = await patch();
            timed.push(command);
            const seen = { forwarded: false, first: false };
            const deadline = command.answeredAt + 10_000;
            for (;;) {
              const now = await positions();
              const elapsed = performance.now() - command.answeredAt;
              if (!seen.forwarded && now.forwarded >= command.position) {
                seen.forwarded = true;
                histograms.forwarded.record(elapsed);
              }
              if (!seen.first && now.first >= command.position) {
                seen.first = true;
                histograms.first.record(elapsed);
              }
              if (now.all >= command.position) {
                histograms.watermark.record(elapsed);
                break;
              }
              if (performance.now() > deadline) throw new Error(`not readable within 10 s (watermark ${now.all}, wanted ${command.position})`);
              await sleep(1);
            }
          } catch (error) {
            fail(describeError(error));
          }
          if ((index + 1) % 100 === 0) progress(`${FRESHNESS_SECTION}: ${index + 1} / ${samples} (p99 so far ${histograms.watermark.summary().p99.toFixed(1)} ms)`);
        }

        const apiSamples = Math.max(1, Math.round(samples / 3));
        let apiErrors = 0;
        let apiFirstError: string | null = null;
        progress(`${FRESHNESS_SECTION}: ${apiSamples} commands, each followed by GET with X-Min-Position`);
        for (let index = 0; index < apiSamples; index += 1) {
          await sleep(Math.random() * 20);
          try {
            const command = await patch();
            timed.push(command);
            const response = await app.inject({ method: 'GET', url: command.url, headers: { ...headers, 'x-min-position': command.position.toString() } });
            const elapsed = performance.now() - command.answeredAt;
            if (response.statusCode !== 200) throw new Error(`GET: ${response.statusCode} ${response.body.slice(0, 200)}`);
            const quantity = response.json<{ quantity: number }>().quantity;
            if (quantity < command.quantity) throw new Error(`GET answered quantity ${quantity}, the PATCH left ${command.quantity}`);
            histograms.api.record(elapsed);
          } catch (error) {
            apiErrors += 1;
            apiFirstError ??= describeError(error);
          }
        }
        // What the policy costs the topic: every message on it, against the events they carry.
        await sleep(2 * WATERMARK_INTERVAL_MS);
        const hopRows = hopHistograms(traced, timed);
        for (const { subject, histogram } of hopRows) progress(`${FRESHNESS_SECTION}: ${subject}: p50 ${histogram.summary().p50.toFixed(1)} ms, p99 ${histogram.summary().p99.toFixed(1)} ms`);
        const afterIdle = await topicCount();
        const idleNote = `topic: ${perEvent(afterSeed, afterIdle)}`;
        progress(`${FRESHNESS_SECTION}: ${policy}, one at a time: ${idleNote}`);
        const summary = histograms.watermark.summary();
        progress(`${FRESHNESS_SECTION}: watermark p50 ${summary.p50.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms; API p50 ${histograms.api.summary().p50.toFixed(1)} ms, p99 ${histograms.api.summary().p99.toFixed(1)} ms`);

        // Under load: other commands at a steady rate while samples are timed, alternately
        // to the watermark (what a list read waits for) and through a point read's GET.
        const rate = config.freshnessLoad;
        const loaded = { watermark: new LatencyHistogram(), api: new LatencyHistogram() };
        let loadedErrors = 0;
        let loadedFirstError: string | null = null;
        let loadSent = 0;
        let loading = true;
        const loader = (async () => {
          const inFlight = new Set<Promise<unknown>>();
          const began = performance.now();
          while (loading) {
            const command = patch().catch(() => {});
            inFlight.add(command);
            void command.finally(() => inFlight.delete(command));
            loadSent += 1;
            const wait = began + (loadSent * 1000) / rate - performance.now();
            if (wait > 0) await sleep(wait);
          }
          await Promise.all(inFlight);
        })();
        const loadStarted = performance.now();
        const loadSamples = Math.max(2, Math.round(samples / 3));
        progress(`${FRESHNESS_SECTION}: ${loadSamples} commands timed under a load of ${rate} commands/s`);
        for (let index = 0; index < loadSamples; index += 1) {
          await sleep(Math.random() * 20);
          try {
            const command = await patch();
            if (index % 2 === 0) {
              for (;;) {
                if ((await positions()).all >= command.position) break;
                if (performance.now() > command.answeredAt + 10_000) throw new Error(`not readable within 10 s under load (wanted ${command.position})`);
                await sleep(1);
              }
              loaded.watermark.record(performance.now() - command.answeredAt);
            } else {
              const response = await app.inject({ method: 'GET', url: command.url, headers: { ...headers, 'x-min-position': command.position.toString() } });
              if (response.statusCode !== 200) throw new Error(`GET under load: ${response.statusCode} ${response.body.slice(0, 200)}`);
              loaded.api.record(performance.now() - command.answeredAt);
            }
          } catch (error) {
            loadedErrors += 1;
            loadedFirstError ??= describeError(error);
          }
        }
        loading = false;
        await loader;
        const achieved = Math.round(loadSent / ((performance.now() - loadStarted) / 1000));
        await sleep(2 * WATERMARK_INTERVAL_MS);
        const afterLoad = await topicCount();
        const loadNote = `${achieved} commands/s offered beside them; topic: ${perEvent(afterIdle, afterLoad)}`;
        progress(`${FRESHNESS_SECTION}: ${policy}, under load: watermark p99 ${loaded.watermark.summary().p99.toFixed(1)} ms, GET p99 ${loaded.api.summary().p99.toFixed(1)} ms; ${loadNote}`);

        const pollNote = 'polled with one query every ~1 ms';
        return [
          ...hopRows.map(({ subject, histogram, note }) => freshRow(input(subject, true), histogram, 0, null, note)),
          freshRow(input(subjects.forwarded, true), histograms.forwarded, 0, null, `forwarder checkpoint ≥ position; ${pollNote}`),
          freshRow(input(subjects.first, true), histograms.first, 0, null, `max(through) of read_model.progress ≥ position; ${pollNote}`),
          freshRow(input(subjects.watermark), histograms.watermark, errors, firstError, `min(through) of read_model.progress ≥ position; ${samples} PATCHes; ${pollNote}; ${idleNote}`),
          freshRow(input(subjects.api), histograms.api, apiErrors, apiFirstError, `PATCH answer → GET answer with the new quantity; ${apiSamples} PATCHes; the API polls every 5 ms (one query for all waiting requests)`),
          freshRow(input(`${subjects.watermark}, under load`), loaded.watermark, loadedErrors, loadedFirstError, `${loaded.watermark.count} PATCHes timed; ${loadNote}`),
          freshRow(input(`${subjects.api}, under load`), loaded.api, 0, null, `${loaded.api.count} PATCHes timed; errors counted in the row above`),
        ];
      } finally {
        await watch.end().catch(() => {});
        await app.close().catch(() => {});
        await projector?.stop().catch(() => {});
        await forwarder?.stop().catch(() => {});
        await bus.close().catch(() => {});
        await pool.end().catch(() => {});
      }
    });
  } catch (error) {
    progress(`${FRESHNESS_SECTION}: failed: ${describeError(error)}`);
    return [failedRow(input(subjects.watermark), describeError(error)), failedRow(input(subjects.api), describeError(error))];
  } finally {
    await deleteTopic(SECTION, brokers, topic, group);
  }
}

const hopSubjects: [keyof Hops, string][] = [
  ['publishStarted', 'hop: the forwarder hands it to the bus'],
  ['published', 'hop: Kafka acknowledged it'],
  ['firstArrived', "hop: the first partition's batch reaches the projector"],
  ['lastArrived', "hop: the last partition's batch reaches the projector"],
  ['lastApplied', "hop: the last partition's batch applied"],
];

/** Per hop, ms from the command's answer, over the one-at-a-time commands (watermark and GET). */
function hopHistograms(traced: TracingBus, timed: readonly { position: bigint; answeredAt: number }[]) {
  const rows = hopSubjects.map(([key, subject]) => {
    const histogram = new LatencyHistogram();
    for (const command of timed) {
      const at = traced.hops(command.position)[key];
      if (at !== null) histogram.record(Math.max(0, at - command.answeredAt));
    }
    return { subject, histogram, note: `${histogram.count} of ${timed.length} commands; timed in the bench's bus wrapper (bench/support/bus-trace.ts)` };
  });
  const { withEvents, watermarkOnly } = traced.applyTimes();
  const spans = (values: number[]) => {
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    return histogram;
  };
  rows.push({ subject: 'apply: a batch with events (ms in onBatch)', histogram: spans(withEvents), note: `${withEvents.length} batches` });
  rows.push({ subject: 'apply: a watermark-only batch (ms in onBatch)', histogram: spans(watermarkOnly), note: `${watermarkOnly.length} batches` });
  return rows;
}

/** Removes the bench's topic and consumer group from the shared broker. */
export async function runProjections(config: BenchConfig): Promise<BenchRow[]> {
  const history = stockHistory(historyShape(config.catchupEvents));
  const rows: BenchRow[] = [];
  const keyPrefix = `stockroom-bench-${randomBytes(4).toString('hex')}:`;
  const client = createRedis(config.redisUrl, { keyPrefix, commandTimeoutMs: 30_000, connectTimeoutMs: 2_000 });
  let hot: HotRedis | null = null;
  try {
    await whenReady(client, 5_000);
    hot = { client, url: config.redisUrl, keyPrefix };
  } catch (error) {
    progress(`${SECTION}: Redis unavailable, its cells will say so: ${describeError(error)}`);
  }
  try {
    await withFreshDatabase('projections', async (database) => {
      try {
        rows.push(...(await catchUp(config, database, history, hot)));
      } catch (error) {
        progress(`${SECTION}: catch-up failed: ${describeError(error)}`);
        rows.push(failedRow({ section: SECTION, scenario: 'catch-up', subject: 'rebuildReadModel → PostgresProjector', workers: 1 }, describeError(error)));
        return;
      }
      rows.push(...(await pointReads(config, database, history, hot)));
    });
  } catch (error) {
    rows.push(failedRow({ section: SECTION, scenario: 'catch-up', subject: 'database', workers: 1 }, describeError(error)));
  } finally {
    client.disconnect();
    await deleteKeys(config.redisUrl, keyPrefix, SECTION);
  }
  if (config.catchupAppended > 0 && !config.pointReadsOnly) rows.push(...(await catchUpAppended(config)));
  return rows;
}

/** Freshness under the watermark policy in use, beside the one it replaced, in one run. */
async function runFreshness(config: BenchConfig): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const interval of config.watermarkIntervals ?? [0, WATERMARK_INTERVAL_MS]) rows.push(...(await freshness(config, interval)));
  return rows;
}

export const freshnessSection: Section = {
  id: FRESHNESS_SECTION,
  title: 'Freshness: a command answered → readable through Kafka',
  workersLabel: 'concurrency',
  run: ({ config }) => runFreshness(config),
  legend: [
    'p50/p99 in ms from the PATCH\'s answer, one command at a time (a random pause of 0–20 ms between), through a real broker; no rate.',
    'Each policy on a fresh database and a topic of its own; "before": watermarks to every partition with every published batch;',
    '"now": a partition told by its own events gets none, the others at most one round per interval (the first after a quiet spell at once).',
    'The GET is a point read of the item, which waits for its own partition only; the min over partitions is what a list read waits for.',
  ].join('\n'),
};

const projectionGoals = (rows: BenchRow[]): string => {
  const subject = (name: string, scenario = 'point reads') => (row: BenchRow) => row.subject === name && row.scenario.startsWith(scenario);
  const mainCatchUp = (row: BenchRow) => row.subject === REBUILD && row.scenario.startsWith('catch-up') && !row.scenario.includes('appended');
  return formatGoals([
    rateGoal('Redis point read ≥ 0.9× its peer (HGETALL route)', rows, subject(ITEM_REDIS), subject(REDIS_PEER), 0.9),
    rateGoal('Redis point read ≥ 0.5× the empty route (one fixed path, no token)', rows, subject(ITEM_REDIS), subject(EMPTY), 0.5),
    rateGoal("Redis point read ≥ 0.5× the empty route given the point read's requests", rows, subject(ITEM_REDIS), subject(EMPTY_SAME), 0.5),
    rateGoal('store page ≥ 0.9× its peer (pg route)', rows, subject(PAGE_PG), subject(PAGE_PEER), 0.9),
    minimumRateGoal('PostgreSQL projector catch-up ≥ 100,000 events/s (of 1,000,000 events)', rows, mainCatchUp, 100_000, 'events'),
  ]);
};

export const projectionsSection: Section = {
  id: SECTION,
  title: 'Projections: catch-up, point reads',
  workersLabel: 'concurrency',
  run: ({ config }) => runProjections(config),
  goals: projectionGoals,
  legend: [
    'catch-up: ops/s are events per second over the whole replay; p50/p99 are per batch (the naive peer: per event); CPU columns per event',
    '(client: this process, where the projector runs; server: the database\'s PostgreSQL backends). Baseline: COPY of as many rows.',
    'Two histories: one loaded by COPY in position order; one appended through es_append by 16 concurrent writers (a lost race: the writer draws again;',
    '1 adjustment attempt in 200 rolled back after drawing its position: holes the subscription steps over).',
    'The naive peer applies one event per transaction and stops after max(10 s, 4 × BENCH_SECONDS); its rate is the same along the way.',
    'point reads: as in http-write (autocannon here, each server in a child process; Stockroom with ROLES=read-api, "PostgreSQL" rows without Redis,',
    'the "Redis hot model" row with it; the peers: plain fastify routes with @fastify/jwt on the same URLs, HGETALL or one pg query, JSON.stringify).',
    'Each Stockroom cell runs beside its peer, the pair\'s order alternating. The bare Redis GET is ioredis in this process, a baseline of its own.',
    'The empty route runs twice: at one fixed path without headers (the rates\' baseline), and given the point read\'s requests (random item URLs, the bearer token: autocannon builds each one, ~25 µs of client CPU the fixed path does not cost).',
  ].join('\n'),
};
