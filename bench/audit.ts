/**
 * For auditors: what the audit features cost on a store with a year of history.
 *
 * Seed. One store, 200 SKUs (the live page's largest size, so that the asOf answer, which
 * is every item in one page, and the live page carry the same rows), and BENCH_AUDIT_EVENTS
 * events (2,000,000) spread over 365 days: generated as the write side records them and
 * COPYed into es_events (bypassing es_append, without hashes: they stand for history written
 * before the chain, which verify hashes as it would have been chained). Then the real
 * projector builds the read model and the stock ledger: rebuildReadModel (the gap-safe
 * subscription into PostgresProjector.applyBatch) in batches of 20,000.
 *
 * (a) asOf: GET /api/inventory/stores/:id?asOf=<random time in the year> beside the live
 *     GET /api/inventory/stores/:id?limit=200, through a real port (autocannon; buildApp
 *     with ROLES=read-api in a child process), with 1 and 16 connections.
 * (b) Export: the ndjson export (Accept: application/x-ndjson) of the store's last
 *     BENCH_AUDIT_EXPORT_DAYS days, read over HTTP as fast as it comes, beside a plain
 *     `COPY (select ... from es_events where <the same filter>) TO STDOUT` of the same rows.
 * (c) Verify: verify() in this process over every event (no Redis), beside a bare
 *     sequential readAll of the same events in pages of 2,000 (verify's page size).
 * (d) The hash chain on the append: PostgresEventStore.append of a prepared event (no hash)
 *     beside the same append with chainHash computed first, and CommandHandler.handle of an
 *     adjustment (decide, hash, append), 16 writers in a fresh database.
 */
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { verify } from '../src/ops/verify/run.js';
import { rebuildReadModel } from '../src/projections/postgres/rebuild.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from '../src/shared/db/pool.js';
import { chainHash, chainSeed } from '../src/shared/event-store/chain.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { newId } from '../src/shared/ids.js';
import { stockItems } from '../src/write/aggregates.js';
import { CommandHandler } from '../src/write/command-handler.js';
import { stockItemStream } from '../src/write/streams.js';
import type { BenchConfig } from './support/config.js';
import { copyFrom, copyTo, recordStreamRevisions } from './support/copy.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { type BenchDatabase, checkpoint, withFreshDatabase } from './support/database.js';
import { cpuSplit, describeCannon, runCannon, startServer } from './support/http.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, type RowInput, type Section, toRow } from './support/report.js';
import { runTimed, type TimedRunResult } from './support/runner.js';
import { serverCpuProbe } from './support/server-cpu.js';
import { stockAdjustment } from './support/stock-events.js';
import { ES_EVENTS_COPY, type StockHistory, stockHistory } from './support/stock-history.js';
import { managerToken } from './support/stockroom.js';
import { readModelProjections } from '../src/projections/postgres/read-model-projections.js';

const SECTION = 'audit';
const SKUS = 200;
const ROWS_PER_CHUNK = 5_000;
const REBUILD_BATCH = 20_000;
const VERIFY_PAGE = 2_000;
const LIVE = 'live GET store, limit=200';
const AS_OF = 'GET store ?asOf=<random time>';
const COPY_OUT = 'COPY (select … from es_events where …) TO STDOUT';
const EXPORT = 'GET /api/audit/events, ndjson';
const READ_ALL = 'readAll, pages of 2,000';
const VERIFY = 'verify() (chain + folds + read model)';
const APPEND = 'PostgresEventStore.append, prepared event (no hash)';
const APPEND_HASHED = 'PostgresEventStore.append + chainHash';
const HANDLER = 'CommandHandler.handle(AdjustStock): decide, hash, append';
const HASH_ONLY = 'chainHash of an adjustment alone';

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** A stretch of work measured once: wall time, this process's CPU and the database backends' CPU. */
async function measured<T>(url: string, work: () => Promise<T>, operations: (value: T) => number, extraServerMicros?: () => number | null): Promise<{ value: T; result: TimedRunResult }> {
  const probe = await serverCpuProbe(url);
  try {
    await probe.open();
    const extraBefore = extraServerMicros?.() ?? null;
    const before = cpuSnapshot();
    const began = performance.now();
    const value = await work();
    const seconds = (performance.now() - began) / 1000;
    const after = cpuSnapshot();
    const extraAfter = extraServerMicros?.() ?? null;
    const server = await probe.close().catch(() => null);
    const done = operations(value);
    const extra = extraBefore === null || extraAfter === null ? 0 : extraAfter - extraBefore;
    return {
      value,
      result: {
        operations: done,
        errors: 0,
        firstError: null,
        elapsedSeconds: seconds,
        operationsPerSecond: done / seconds,
        latency: new LatencyHistogram().summary(),
        cpu: cpuBetween(before, after, done, availableParallelism()),
        serverCpuMicrosPerOp: server === null || done === 0 ? null : (server + extra) / done,
      },
    };
  } finally {
    await probe.end();
  }
}

const describeRate = (result: TimedRunResult): string =>
  `${count(result.operationsPerSecond)} events/s in ${result.elapsedSeconds.toFixed(1)} s, client ${result.cpu.clientMicrosPerOp.toFixed(1)} µs/event` +
  (result.serverCpuMicrosPerOp === null ? '' : `, server ${result.serverCpuMicrosPerOp.toFixed(1)} µs/event`);

function* reporting(chunks: Iterable<string>, total: number): Generator<string> {
  let rows = 0;
  let next = total / 4;
  for (const chunk of chunks) {
    yield chunk;
    rows = Math.min(total, rows + ROWS_PER_CHUNK);
    if (rows >= next) {
      progress(`${SECTION}: es_events ${count(rows)} / ${count(total)}`);
      next += total / 4;
    }
  }
}

interface Seeded {
  storeId: string;
  first: Date;
  last: Date;
  token: string;
  seedNote: string;
}

// slonik gives timestamptz back as epoch milliseconds.
const spanRow = z.object({ first: z.number().transform((ms) => new Date(ms)), last: z.number().transform((ms) => new Date(ms)) });

/** COPY the year into es_events, log in, then the real projector builds the read model and the ledger. */
async function seed(database: BenchDatabase, history: StockHistory): Promise<Seeded> {
  const total = history.shape.events;
  await migrate(database.url);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const began = performance.now();
  try {
    progress(`${SECTION}: COPY of ${count(total)} events (1 store, ${SKUS} SKUs, 365 days) into es_events`);
    await copyFrom(client, ES_EVENTS_COPY, reporting(history.chunks(ROWS_PER_CHUNK), total));
    await recordStreamRevisions(client, history.streamRevisions());
    await client.query('analyze');
  } finally {
    await client.end();
  }
  const copySeconds = (performance.now() - began) / 1000;
  const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
  try {
    // Before the rebuild, so that the manager's own events are projected too and verify finds the read model whole.
    const token = await managerToken(pool);
    const store = new PostgresEventStore(pool);
    progress(`${SECTION}: rebuildReadModel (read model + stock ledger), batches of ${count(REBUILD_BATCH)}`);
    const rebuildBegan = performance.now();
    let nextReport = total / 4;
    const rebuilt = await rebuildReadModel({
      databaseUrl: database.url,
      pool,
      store,
      projections: readModelProjections,
      batchSize: REBUILD_BATCH,
      progress: (report) => {
        if (report.events < nextReport) return;
        nextReport += total / 4;
        progress(`${SECTION}: projected ${count(report.events)} / ${count(total)} (${count(report.eventsPerSecond)} events/s)`);
      },
    });
    const rebuildSeconds = (performance.now() - rebuildBegan) / 1000;
    // This server runs without autovacuum: the statistics production would have.
    await pool.query(sql.unsafe`analyze read_model.stock, read_model.stock_ledger, read_model.skus, read_model.stores`);
    const ledgerRows = z.bigint().parse(await pool.oneFirst(sql.unsafe`select count(*)::bigint from read_model.stock_ledger`));
    const span = spanRow.parse(
      await pool.one(sql.unsafe`select min(recorded_at) as first, max(recorded_at) as last from es_events where stream_id like 'stockitem-%'`),
    );
    const seedNote =
      `seeded by COPY in ${copySeconds.toFixed(1)} s, then rebuildReadModel in ${rebuildSeconds.toFixed(1)} s ` +
      `(${count(rebuilt.events / rebuildSeconds)} events/s; ledger ${count(Number(ledgerRows))} rows)`;
    progress(`${SECTION}: ${seedNote}`);
    return { storeId: history.storeIds[0]!, first: span.first, last: span.last, token, seedNote };
  } finally {
    await pool.end();
  }
}

/** (a) asOf beside the live page, through a real port. */
async function asOfCells(config: BenchConfig, database: BenchDatabase, seeded: Seeded): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const headers = { authorization: `Bearer ${seeded.token}` };
  const live = `/api/inventory/stores/${seeded.storeId}?limit=${SKUS}`;
  const span = seeded.last.getTime() - seeded.first.getTime();
  const asOfPath = () =>
    `/api/inventory/stores/${seeded.storeId}?asOf=${encodeURIComponent(new Date(seeded.first.getTime() + Math.random() * span).toISOString())}`;
  const server = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'read-api' });
  try {
    for (const [path, label] of [
      [live, 'live'],
      [asOfPath(), 'asOf'],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { headers });
      const body: unknown = await response.json();
      const parsed = z.object({ items: z.array(z.unknown()) }).safeParse(body);
      if (response.status !== 200 || !parsed.success || parsed.data.items.length !== SKUS) {
        throw new Error(`${label} GET ${path}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
    }
    for (const connections of [1, 16]) {
      const scenario = `one store, ${SKUS} items, ${count(config.auditEvents)} events over 365 days`;
      for (const [subject, setupPath] of [
        [LIVE, () => live],
        [AS_OF, asOfPath],
      ] as const) {
        const input: Omit<RowInput, 'result'> = { section: SECTION, scenario, subject, workers: connections };
        try {
          await checkpoint(database.url);
          progress(`${SECTION}: ${subject}, ${connections} connection(s): ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
          const result = await runCannon({
            server,
            connections,
            warmupSeconds: config.warmupSeconds,
            seconds: config.seconds,
            databaseUrl: database.url,
            headers,
            request: { method: 'GET', setupRequest: (request) => ({ ...request, path: setupPath() }) },
          });
          progress(`${SECTION}: ${subject}: ${describeCannon(result)}`);
          rows.push(toRow({ ...input, result, note: `${cpuSplit(result)}; ${SKUS} items per answer${subject === AS_OF ? '; a new random time in the year per request' : ''}` }));
        } catch (error) {
          rows.push(failedRow(input, describeError(error)));
        }
      }
    }
  } finally {
    await server.stop();
  }
  return compareTo(rows, () => LIVE);
}

const exportEnd = z.object({ count: z.int(), complete: z.literal(true) });

/** (b) The ndjson export of a large selection beside a COPY TO STDOUT of the same rows. */
async function exportCells(config: BenchConfig, database: BenchDatabase, seeded: Seeded): Promise<BenchRow[]> {
  const from = new Date(seeded.last.getTime() - config.auditExportDays * 24 * 3600 * 1000);
  const scenario = `export: the store's last ${config.auditExportDays} days`;
  const input = (subject: string): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1 });
  const rows: BenchRow[] = [];

  // The same filter as postgresAuditTrail's for storeId and from, the same columns, in position order.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  let copied = 0;
  try {
    await checkpoint(database.url);
    progress(`${SECTION}: ${COPY_OUT}`);
    const copying = await measured(
      database.url,
      () =>
        copyTo(
          client,
          `copy (select position, stream_id, revision, event_id, type, data, metadata, recorded_at from es_events
                  where es_store_of(stream_id) = '${seeded.storeId}' and recorded_at >= '${from.toISOString()}'::timestamptz
                  order by position) to stdout`,
        ),
      (value) => value.rows,
    );
    copied = copying.value.rows;
    progress(`${SECTION}: COPY TO STDOUT: ${describeRate(copying.result)}, ${count(copying.value.bytes / 2 ** 20)} MiB`);
    rows.push(toRow({ ...input(COPY_OUT), result: copying.result, note: `${count(copied)} rows, ${count(copying.value.bytes / 2 ** 20)} MiB of COPY text through pg (a submittable, no pg-copy-streams)` }));
  } catch (error) {
    rows.push(failedRow(input(COPY_OUT), describeError(error)));
  } finally {
    await client.end();
  }

  try {
    const server = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'read-api' });
    try {
      await checkpoint(database.url);
      progress(`${SECTION}: ${EXPORT}`);
      const url = `${server.url}/api/audit/events?storeId=${seeded.storeId}&from=${encodeURIComponent(from.toISOString())}`;
      const exporting = await measured(
        database.url,
        async () => {
          const response = await fetch(url, { headers: { authorization: `Bearer ${seeded.token}`, accept: 'application/x-ndjson' } });
          if (response.status !== 200 || !response.body) throw new Error(`export: ${response.status} ${await response.text()}`);
          // Read as it comes, keeping only the last line: a client that writes it to disk.
          const decoder = new TextDecoder();
          let bytes = 0;
          let tail = '';
          for await (const chunk of response.body) {
            bytes += chunk.length;
            tail = (tail + decoder.decode(chunk, { stream: true })).slice(-200);
          }
          const lastLine = tail.trimEnd().split('\n').at(-1) ?? '';
          return { bytes, end: exportEnd.parse(JSON.parse(lastLine)) };
        },
        (value) => value.end.count,
        () => server.cpuMicros(),
      );
      const written = exporting.value.end.count;
      const check = written === copied ? `${count(written)} events, as many as COPY` : `EXPORT WROTE ${count(written)} EVENTS, COPY ${count(copied)}`;
      progress(`${SECTION}: export: ${describeRate(exporting.result)}; ${check}`);
      rows.push(
        toRow({
          ...input(EXPORT),
          result: written === copied ? exporting.result : { ...exporting.result, errors: 1, firstError: check },
          note: `${check}, ${count(exporting.value.bytes / 2 ** 20)} MiB over HTTP (read-api in a child process, pages of 1,000); server CPU = app + PostgreSQL`,
        }),
      );
    } finally {
      await server.stop();
    }
  } catch (error) {
    progress(`${SECTION}: export failed: ${describeError(error)}`);
    rows.push(failedRow(input(EXPORT), describeError(error)));
  }
  return compareTo(rows, () => COPY_OUT);
}

/** (c) verify() beside a bare sequential read of the same events. */
async function verifyCells(database: BenchDatabase, total: number): Promise<BenchRow[]> {
  const scenario = `verify: every event (${count(total)})`;
  const input = (subject: string): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1 });
  const rows: BenchRow[] = [];
  const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
  try {
    const store = new PostgresEventStore(pool);
    try {
      await checkpoint(database.url);
      progress(`${SECTION}: ${READ_ALL}`);
      const reading = await measured(
        database.url,
        async () => {
          let after = 0n;
          let read = 0;
          for (;;) {
            const page = await store.readAll({ after, maxCount: VERIFY_PAGE });
            if (page.length === 0) return read;
            read += page.length;
            after = page.at(-1)!.position;
          }
        },
        (read) => read,
      );
      progress(`${SECTION}: readAll: ${describeRate(reading.result)}`);
      rows.push(toRow({ ...input(READ_ALL), result: reading.result, note: `${count(reading.value)} events; PostgresEventStore.readAll as verify calls it, nothing done with them` }));
    } catch (error) {
      rows.push(failedRow(input(READ_ALL), describeError(error)));
    }
    try {
      await checkpoint(database.url);
      progress(`${SECTION}: ${VERIFY}`);
      let shown = 0;
      const verifying = await measured(
        database.url,
        () =>
          verify({
            pool,
            store,
            redis: null,
            progress: (events) => {
              if (events - shown < total / 4) return;
              shown = events;
              progress(`${SECTION}: verify read ${count(events)} / ${count(total)}`);
            },
          }),
        (report) => report.events,
      );
      const report = verifying.value;
      const check = report.differences.length === 0 ? 'no difference' : `${report.differences.length} DIFFERENCES, first: ${JSON.stringify(report.differences[0])}`;
      progress(`${SECTION}: verify: ${describeRate(verifying.result)}; ${check}`);
      rows.push(
        toRow({
          ...input(VERIFY),
          result: report.differences.length === 0 ? verifying.result : { ...verifying.result, errors: report.differences.length, firstError: check },
          note: `${count(report.events)} events in ${count(report.streams)} streams, ${check}; hashes every event (none carries one: history from before the chain), compares the PostgreSQL read model and ledger, no Redis`,
        }),
      );
    } catch (error) {
      progress(`${SECTION}: verify failed: ${describeError(error)}`);
      rows.push(failedRow(input(VERIFY), describeError(error)));
    }
  } finally {
    await pool.end();
  }
  return compareTo(rows, () => READ_ALL);
}

/** (d) The hash chain's cost on the append, in a fresh database. */
async function appendCells(config: BenchConfig): Promise<BenchRow[]> {
  const writers = 16;
  const streamsPerWriter = 100;
  const scenario = 'append 1 stock adjustment/call';
  const input = (subject: string, diagnostic = false): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: writers, diagnostic });
  const rows: BenchRow[] = [];
  const actor = newId();
  await withFreshDatabase('audit_append', async (database) => {
    await migrate(database.url);
    const pool = await createDatabasePool(database.url, { maximumPoolSize: config.poolSize });
    const appendPool = createAppendPool(database.url, config.poolSize);
    const store = new PostgresEventStore(pool, appendPool);
    try {
      for (const hashed of [false, true]) {
        const subject = hashed ? APPEND_HASHED : APPEND;
        try {
          await checkpoint(database.url);
          progress(`${SECTION}: ${subject}, ${writers} writers`);
          const probe = await serverCpuProbe(database.url);
          try {
            const result = await runTimed({
              workers: writers,
              warmupMs: config.warmupSeconds * 1000,
              durationMs: config.seconds * 1000,
              serverCpu: probe,
              createWorker: () => {
                const streams = Array.from({ length: streamsPerWriter }, () => ({ id: stockItemStream(newId(), newId()), revision: -1, hash: '' }));
                for (const stream of streams) stream.hash = chainSeed(stream.id);
                let next = 0;
                return async () => {
                  const stream = streams[next % streams.length]!;
                  next += 1;
                  const event = stockAdjustment(stream.revision + 2);
                  if (hashed) {
                    const hash = chainHash(stream.hash, event);
                    Object.assign(event.metadata, { hash });
                    stream.hash = hash;
                  }
                  const appended = await store.append(stream.id, [event], stream.revision < 0 ? 'no_stream' : stream.revision);
                  if (appended.revision !== stream.revision + 1) throw new Error(`${stream.id} went to ${appended.revision}`);
                  stream.revision = appended.revision;
                };
              },
            });
            rows.push(toRow({ ...input(subject), result, note: `${writers} writers × ${streamsPerWriter} streams, exact expected revision` }));
          } finally {
            await probe.end();
          }
        } catch (error) {
          rows.push(failedRow(input(subject), describeError(error)));
        }
      }

      try {
        await checkpoint(database.url);
        progress(`${SECTION}: ${HANDLER}, ${writers} writers`);
        const handler = new CommandHandler(store);
        const context = () => ({ actor, correlationId: newId(), now: new Date() });
        const probe = await serverCpuProbe(database.url);
        try {
          const result = await runTimed({
            workers: writers,
            warmupMs: config.warmupSeconds * 1000,
            durationMs: config.seconds * 1000,
            serverCpu: probe,
            createWorker: async () => {
              const storeId = newId();
              const items = Array.from({ length: streamsPerWriter }, () => ({ storeId, skuId: newId() }));
              // Added through the handler, not timed: the adjustments then decide on its cached state, as in the app.
              for (const item of items) {
                await handler.handle(stockItems, stockItemStream(item.storeId, item.skuId), { type: 'AddStockItem', ...item, quantity: 0, lowStockThreshold: 5, storeStatus: 'open', skuExists: true }, context());
              }
              let next = 0;
              return async () => {
                const item = items[next % items.length]!;
                next += 1;
                const handled = await handler.handle(stockItems, stockItemStream(item.storeId, item.skuId), { type: 'AdjustStock', ...item, delta: 1, reason: 'received', note: null }, context());
                if (!handled.written) throw new Error('the adjustment wrote nothing');
              };
            },
          });
          rows.push(toRow({ ...input(HANDLER), result, note: `${writers} writers × ${streamsPerWriter} items; state cached, so no read before the append` }));
        } finally {
          await probe.end();
        }
      } catch (error) {
        rows.push(failedRow(input(HANDLER), describeError(error)));
      }
    } finally {
      await appendPool.end();
      await pool.end();
    }
  });

  // The hash alone, one caller, in a synchronous loop (runTimed's window opens on a timer, which a loop that never waits would starve).
  let previous = chainSeed(stockItemStream(newId(), newId()));
  const hashes = new LatencyHistogram();
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  while (performance.now() - began < 1000) {
    const start = performance.now();
    previous = chainHash(previous, stockAdjustment(1));
    hashes.record(performance.now() - start);
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  rows.push(
    toRow({
      ...input(HASH_ONLY, true),
      workers: 1,
      result: {
        operations: hashes.count,
        errors: 0,
        firstError: null,
        elapsedSeconds: seconds,
        operationsPerSecond: hashes.count / seconds,
        latency: hashes.summary(),
        cpu: { clientMicrosPerOp: (cpu.user + cpu.system) / hashes.count, hostBusyPercent: null, hostMicrosPerOp: null },
        serverCpuMicrosPerOp: 0,
      },
      note: 'sha256 over the canonical JSON of a stock adjustment, the event built in the loop too (as in the rows above)',
    }),
  );
  return compareTo(rows, (row) => (row.subject === HASH_ONLY ? null : APPEND));
}

export async function runAudit(config: BenchConfig): Promise<BenchRow[]> {
  const history = stockHistory({ stores: 1, skus: SKUS, events: Math.max(config.auditEvents, 1 + SKUS * 2), spanDays: 365 });
  const rows: BenchRow[] = [];
  try {
    await withFreshDatabase('audit', async (database) => {
      const seeded = await seed(database, history);
      try {
        rows.push(...(await asOfCells(config, database, seeded)));
      } catch (error) {
        progress(`${SECTION}: asOf failed: ${describeError(error)}`);
        rows.push(failedRow({ section: SECTION, scenario: 'asOf', subject: AS_OF, workers: 1 }, describeError(error)));
      }
      rows.push(...(await exportCells(config, database, seeded)));
      rows.push(...(await verifyCells(database, history.shape.events + 0)));
      if (rows[0]) rows[0] = { ...rows[0], note: `${rows[0].note ?? ''}; ${seeded.seedNote}` };
    });
  } catch (error) {
    rows.push(failedRow({ section: SECTION, scenario: 'seed', subject: 'one store, a year', workers: 1 }, describeError(error)));
  }
  rows.push(...(await appendCells(config)));
  return rows;
}

export const auditSection: Section = {
  id: SECTION,
  title: 'Auditors: stock as of a moment, export, verify, the hash chain',
  workersLabel: 'concurrency',
  run: ({ config }) => runAudit(config),
  legend: [
    'asOf: autocannon against buildApp (ROLES=read-api) in a child process; ops/s are answers per second, p50/p99 exact; baseline the live page of as many items.',
    'export and verify: ops/s are events per second of one run; client CPU is this process per event (for the export, the HTTP reader only),',
    'server CPU the PostgreSQL backends per event (the export adds the app process). Baselines: COPY TO STDOUT of the same rows; readAll of the same events.',
    'append: as in the write path, 16 writers on their own streams; the baseline appends the same event without its hash. chainHash alone: one caller, CPU only.',
  ].join('\n'),
};
