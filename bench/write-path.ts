/**
 * The write path: how fast one event gets durably appended, by four "appenders" on
 * the same PostgreSQL server with the same pool size, and whether our store slows
 * down as a stream grows. Every cell runs in a fresh database.
 *
 *   bare       autocommit INSERT of the event as jsonb into a table with only a PK:
 *              the physical limit of one durable write per call;
 *   classic    the design this replaces: BEGIN; UPDATE stock ... WHERE version = $expected;
 *              INSERT into an outbox; COMMIT (four round trips);
 *   emmett     Emmett's PostgreSQL event store, appendToStream with expectedStreamVersion;
 *   stockroom  our PostgresEventStore.append with an exact expected revision, group commit
 *              on (concurrent appends share a trip: es_append_many, as the app runs it);
 *   stockroom/one-per-trip  the same with group commit off (every append its own
 *              es_append call and transaction): what group commit changes.
 *
 * Each writer cycles over its own streams (100 by default) with the exact expected
 * revision of each, as a stock adjustment does, so writers never contend on a row.
 */
import pg from 'pg';
import { z } from 'zod/v4';
import { migrate } from '../src/shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from '../src/shared/db/pool.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { type BenchConfig, groupCommitExtraTrips } from './support/config.js';
import { benchPool, checkpoint, withFreshDatabase } from './support/database.js';
import { describeError, progress } from './support/progress.js';
import { compareTo, failedRow, type BenchRow, type Section, toRow } from './support/report.js';
import { LatencyHistogram } from './support/latency.js';
import { combineRuns, type Operation, runTimed, type TimedRunResult } from './support/runner.js';
import { serverCpuProbe } from './support/server-cpu.js';
import { stockAdjustment, stockItemStreams } from './support/stock-events.js';

const SECTION = 'write-path';
const APPEND_SCENARIO = 'append 1 event/call';
const GROWTH_APPEND_SCENARIO = 'growth: append 1 event/call, one stream';
const GROWTH_READ_SCENARIO = 'growth: readStream last 10, backwards';

interface AppenderSetup {
  url: string;
  poolSize: number;
  writers: number;
  streamsPerWriter: number;
}

/** An appender opened on a fresh database: one operation per writer, then close. */
interface OpenAppender {
  /** Writer i's operation: each call appends one event to the next of its streams. */
  writer(index: number): Operation;
  /** A note for the row, read after the run (e.g. appends per trip). */
  note?(): string | null;
  close(): Promise<void>;
}

interface Appender {
  subject: string;
  diagnostic?: boolean;
  open(setup: AppenderSetup): Promise<OpenAppender>;
}

/** Round-robin over a writer's streams, remembering the revision of each. */
class StreamCycle<Revision> {
  private next = 0;
  private readonly revisions: Revision[];

  constructor(
    readonly streams: string[],
    initial: Revision,
  ) {
    this.revisions = streams.map(() => initial);
  }

  take(): { index: number; stream: string; revision: Revision } {
    const index = this.next;
    this.next = (this.next + 1) % this.streams.length;
    const stream = this.streams[index];
    const revision = this.revisions[index];
    if (stream === undefined || revision === undefined) throw new Error('stream cycle out of range');
    return { index, stream, revision };
  }

  set(index: number, revision: Revision): void {
    this.revisions[index] = revision;
  }
}

const bare: Appender = {
  subject: 'bare',
  async open({ url, poolSize, streamsPerWriter }) {
    const pool = benchPool(url, poolSize);
    await pool.query(`
      create table bare_events (
        id bigint generated always as identity primary key,
        stream_id text not null,
        payload jsonb not null
      )`);
    return {
      writer() {
        const cycle = new StreamCycle(stockItemStreams(streamsPerWriter), 0);
        return async () => {
          const { index, stream, revision } = cycle.take();
          await pool.query('insert into bare_events (stream_id, payload) values ($1, $2::jsonb)', [
            stream,
            JSON.stringify(stockAdjustment(revision + 1)),
          ]);
          cycle.set(index, revision + 1);
        };
      },
      close: () => pool.end(),
    };
  },
};

const classic: Appender = {
  subject: 'classic',
  async open({ url, poolSize, writers, streamsPerWriter }) {
    const pool = benchPool(url, poolSize);
    await pool.query(`
      create table stock (
        id text primary key,
        quantity integer not null,
        version integer not null
      )`);
    await pool.query(`
      create table outbox (
        id bigint generated always as identity primary key,
        aggregate_id text not null,
        type text not null,
        payload jsonb not null,
        created_at timestamptz not null default now()
      )`);
    const cycles = Array.from({ length: writers }, () => new StreamCycle(stockItemStreams(streamsPerWriter), 0));
    await pool.query('insert into stock (id, quantity, version) select unnest($1::text[]), 0, 0', [
      cycles.flatMap((cycle) => cycle.streams),
    ]);
    return {
      writer(writerIndex) {
        const cycle = cycles[writerIndex];
        if (!cycle) throw new Error(`no stock rows for writer ${writerIndex}`);
        return async () => {
          const { index, stream, revision } = cycle.take();
          const event = stockAdjustment(revision + 1);
          const client = await pool.connect();
          try {
            await client.query('begin');
            const updated = await client.query(
              'update stock set quantity = quantity + $2, version = version + 1 where id = $1 and version = $3',
              [stream, event.data.delta, revision],
            );
            if (updated.rowCount !== 1) throw new Error(`classic: ${stream} is not at version ${revision}`);
            await client.query('insert into outbox (aggregate_id, type, payload) values ($1, $2, $3::jsonb)', [
              stream,
              event.type,
              JSON.stringify(event),
            ]);
            await client.query('commit');
          } catch (error) {
            await client.query('rollback').catch(() => {});
            throw error;
          } finally {
            client.release();
          }
          cycle.set(index, revision + 1);
        };
      },
      close: () => pool.end(),
    };
  },
};

/** Emmett's dumbo sets pg's global int8/json/jsonb parsers; put them back when done. */
const PARSED_BY_EMMETT = [20, 114, 3802] as const;

const emmett: Appender = {
  subject: 'emmett',
  async open({ url, poolSize, streamsPerWriter }) {
    const savedParsers = PARSED_BY_EMMETT.map((oid) => ({ oid, parse: pg.types.getTypeParser(oid, 'text') as (value: string) => unknown }));
    const { getPostgreSQLEventStore } = await import('@event-driven-io/emmett-postgresql');
    const pool = benchPool(url, poolSize);
    const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
    await store.schema.migrate();
    return {
      writer() {
        // Emmett counts stream versions from 1; 0n means "the stream does not exist yet".
        const cycle = new StreamCycle(stockItemStreams(streamsPerWriter), 0n);
        return async () => {
          const { index, stream, revision } = cycle.take();
          const { type, data, metadata, id } = stockAdjustment(Number(revision) + 1);
          const result = await store.appendToStream(stream, [{ type, data, metadata: { ...metadata, eventId: id } }], {
            expectedStreamVersion: revision,
          });
          if (result.nextExpectedStreamVersion !== revision + 1n) {
            throw new Error(`emmett: ${stream} went to ${result.nextExpectedStreamVersion}, not ${revision + 1n}`);
          }
          cycle.set(index, result.nextExpectedStreamVersion);
        };
      },
      async close() {
        await store.close();
        await pool.end();
        for (const { oid, parse } of savedParsers) pg.types.setTypeParser(oid, 'text', parse);
      },
    };
  },
};

/** Trips in flight before group commit gathers appends (BENCH_GROUP_COMMIT_TRIPS; default the adapter's). */
const groupCommitTrips = (): number | null => {
  const raw = process.env.BENCH_GROUP_COMMIT_TRIPS?.trim();
  if (!raw) return null;
  const trips = Number(raw);
  if (!Number.isInteger(trips) || trips < 1) throw new Error(`BENCH_GROUP_COMMIT_TRIPS must be a positive integer, not ${raw}`);
  return trips;
};

const stockroomAppender = (subject: string, groupCommit: boolean): Appender => ({
  subject,
  async open({ url, poolSize, streamsPerWriter }) {
    await migrate(url);
    const pool = await createDatabasePool(url, { maximumPoolSize: poolSize });
    // As main.ts builds it: the append through plain pg, everything else through slonik.
    const appendPool = createAppendPool(url, poolSize);
    const trips = groupCommitTrips();
    const extraTrips = groupCommitExtraTrips();
    const store = new PostgresEventStore(pool, appendPool, {
      groupCommit: groupCommit ? { ...(trips === null ? {} : { maxInFlight: trips }), ...(extraTrips === null ? {} : { extraTrips }) } : false,
    });
    return {
      writer() {
        const cycle = new StreamCycle(stockItemStreams(streamsPerWriter), -1);
        return async () => {
          const { index, stream, revision } = cycle.take();
          const result = await store.append(stream, [stockAdjustment(revision + 2)], revision < 0 ? 'no_stream' : revision);
          if (!result.written || result.revision !== revision + 1) {
            throw new Error(`stockroom: ${stream} went to ${result.revision}, not ${revision + 1}`);
          }
          cycle.set(index, result.revision);
        };
      },
      note() {
        const stats = store.groupCommitStats;
        if (stats === null) return 'group commit off: one es_append per append';
        const perTrip = stats.trips === 0 ? 0 : stats.appends / stats.trips;
        return `group commit${trips === null ? '' : ` over ${trips} trip(s)`}${extraTrips === null ? '' : `, extra trips ${extraTrips}`}: ${perTrip.toFixed(1)} appends per trip (warm-up included)` +
          (stats.overlapped > 0 ? `, ${stats.overlapped} of ${stats.trips} trips beside another` : '') +
          (stats.fallbacks > 0 ? `, ${stats.fallbacks} batches sent again one by one` : '');
      },
      close: async () => {
        await appendPool.end();
        await pool.end();
      },
    };
  },
});

const stockroom = stockroomAppender('stockroom', true);
const stockroomAlone = stockroomAppender('stockroom/one-per-trip', false);

const esAppendRow = z.object({
  outcome: z.string(),
  revision: z.union([z.string(), z.bigint(), z.number()]),
});

/**
 * Diagnostic: the same es_append call, same payload, through a plain pg.Pool instead of
 * slonik and without the adapter's zod parsing: the difference is the client library's.
 */
const stockroomOverPg: Appender = {
  subject: 'es_append/pg',
  diagnostic: true,
  async open({ url, poolSize, streamsPerWriter }) {
    await migrate(url);
    const pool = benchPool(url, poolSize);
    return {
      writer() {
        const cycle = new StreamCycle(stockItemStreams(streamsPerWriter), -1);
        return async () => {
          const { index, stream, revision } = cycle.take();
          const { id, type, data, metadata } = stockAdjustment(revision + 2);
          const { rows } = await pool.query('select outcome, revision from es_append($1, $2, $3::jsonb)', [
            stream,
            revision,
            JSON.stringify([{ id, type, data, metadata }]),
          ]);
          const row = esAppendRow.parse(rows[0]);
          if (row.outcome !== 'written' || Number(row.revision) !== revision + 1) {
            throw new Error(`es_append: ${stream} answered ${row.outcome} at ${String(row.revision)}`);
          }
          cycle.set(index, revision + 1);
        };
      },
      close: () => pool.end(),
    };
  },
};

/** In the order of the table. Emmett runs last: it changes pg's global type parsers while open. */
const appenders: Appender[] = [bare, classic, emmett, stockroom, stockroomAlone, stockroomOverPg];
const runOrder: Appender[] = [bare, classic, stockroom, stockroomAlone, stockroomOverPg, emmett];

const describeResult = (result: TimedRunResult): string =>
  `${Math.round(result.operationsPerSecond).toLocaleString('en-US')} ops/s, p50 ${result.latency.p50.toFixed(2)} ms, ` +
  `p99 ${result.latency.p99.toFixed(2)} ms, client ${Math.round(result.cpu.clientMicrosPerOp)} µs/op` +
  (result.serverCpuMicrosPerOp === null ? '' : `, server ${Math.round(result.serverCpuMicrosPerOp)} µs/op`) +
  (result.cpu.hostBusyPercent === null ? '' : `, host ${Math.round(result.cpu.hostBusyPercent)}% busy`) +
  (result.errors > 0 ? `, ${result.errors} errors (${result.firstError ?? ''})` : '');

async function measureAppender(appender: Appender, writers: number, config: BenchConfig): Promise<BenchRow> {
  const input = { section: SECTION, scenario: APPEND_SCENARIO, subject: appender.subject, workers: writers, diagnostic: appender.diagnostic ?? false };
  try {
    return await withFreshDatabase(`${appender.subject}_${writers}w`, async (database) => {
      const open = await appender.open({
        url: database.url,
        poolSize: config.poolSize,
        writers,
        streamsPerWriter: config.streamsPerWriter,
      });
      try {
        await checkpoint(database.url);
        progress(`${SECTION}: ${appender.subject}, ${writers} writer(s): ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        const serverCpu = await serverCpuProbe(database.url);
        const result = await runTimed({
          workers: writers,
          warmupMs: config.warmupSeconds * 1000,
          durationMs: config.seconds * 1000,
          createWorker: (index) => open.writer(index),
          serverCpu,
        }).finally(() => serverCpu.end());
        const note = open.note?.() ?? null;
        progress(`${SECTION}: ${appender.subject}, ${writers} writer(s): ${describeResult(result)}${note ? `; ${note}` : ''}`);
        return toRow({ ...input, result, ...(note ? { note } : {}) });
      } finally {
        await open.close();
      }
    });
  } catch (error) {
    progress(`${SECTION}: ${appender.subject}, ${writers} writer(s) failed: ${describeError(error)}`);
    return failedRow(input, describeError(error));
  }
}

/**
 * Two streams of our store: one grown to config.growthEvents in batched appends, one left
 * near revision 0; then each measured in turn, in two rounds of opposite order (near, long,
 * long, near), so that a host that slows down or speeds up during the cell weighs on both
 * alike. Appending and reading the tail must not depend on how long the stream is.
 */
async function measureGrowth(config: BenchConfig): Promise<BenchRow[]> {
  return withFreshDatabase('growth', async (database) => {
    await migrate(database.url);
    const pool = await createDatabasePool(database.url, { maximumPoolSize: config.poolSize });
    try {
      const store = new PostgresEventStore(pool);
      const [nearName, longName] = stockItemStreams(2);
      if (nearName === undefined || longName === undefined) throw new Error('no stream names');
      const target = config.growthEvents;
      const nearSubject = 'stream near 0';
      const longSubject = `stream at ${target.toLocaleString('en-US')}`;
      const near = { name: nearName, subject: nearSubject, revision: -1 };
      const long = { name: longName, subject: longSubject, revision: -1 };
      type Stream = typeof near;

      const appendOne = (stream: Stream): Operation => async () => {
        const result = await store.append(stream.name, [stockAdjustment(stream.revision + 2)], stream.revision < 0 ? 'no_stream' : stream.revision);
        if (result.revision !== stream.revision + 1) throw new Error(`growth: went to ${result.revision}, not ${stream.revision + 1}`);
        stream.revision = result.revision;
      };
      const readTail = (stream: Stream): Operation => async () => {
        const events = await store.readStream(stream.name, { direction: 'backwards', maxCount: 10 });
        if (events.length !== Math.min(10, stream.revision + 1) || events[0]?.revision !== stream.revision) {
          throw new Error(`growth: read ${events.length} events ending at ${events[0]?.revision ?? 'none'}, expected ${stream.revision}`);
        }
      };
      const timed = async (operation: Operation, histogram: LatencyHistogram): Promise<TimedRunResult> => {
        const serverCpu = await serverCpuProbe(database.url);
        return runTimed({
          workers: 1,
          warmupMs: config.warmupSeconds * 1000,
          durationMs: config.seconds * 1000,
          createWorker: () => operation,
          serverCpu,
          histogram,
        }).finally(() => serverCpu.end());
      };

      const batch = Math.max(1, config.growthBatch);
      const began = performance.now();
      // Events per second of each tenth of the growth: flat if an append does not depend on the stream's length.
      const tenths: number[] = [];
      let tenthFrom = 0;
      let tenthBegan = began;
      progress(`${SECTION}: growth, appending ${target.toLocaleString('en-US')} events in batches of ${batch}`);
      while (long.revision + 1 < target) {
        const size = Math.min(batch, target - (long.revision + 1));
        const events = Array.from({ length: size }, (_, offset) => stockAdjustment(long.revision + 2 + offset));
        const result = await store.append(long.name, events, long.revision < 0 ? 'no_stream' : long.revision);
        long.revision = result.revision;
        if (long.revision + 1 - tenthFrom >= target / 10 || long.revision + 1 >= target) {
          const now = performance.now();
          const rate = (long.revision + 1 - tenthFrom) / ((now - tenthBegan) / 1000);
          tenths.push(rate);
          progress(`${SECTION}: growth, ${(long.revision + 1).toLocaleString('en-US')} / ${target.toLocaleString('en-US')} events (${Math.round(rate).toLocaleString('en-US')} events/s in ${batch}-event appends)`);
          tenthFrom = long.revision + 1;
          tenthBegan = now;
        }
      }
      const perSecond = (rate: number | undefined): string => (rate === undefined ? '—' : Math.round(rate).toLocaleString('en-US'));
      const growthNote =
        tenths.length === 0 ? null : `grown in ${batch}-event appends at ${perSecond(tenths[0])} events/s first, ${perSecond(tenths.at(-1))} events/s last`;

      // Each stream's runs, read as one per operation at the end.
      const measured = new Map<Stream, { from: number; appends: TimedRunResult[]; reads: TimedRunResult[]; appendLatency: LatencyHistogram; readLatency: LatencyHistogram }>(
        [near, long].map((stream) => [stream, { from: stream.revision + 1, appends: [], reads: [], appendLatency: new LatencyHistogram(), readLatency: new LatencyHistogram() }]),
      );
      for (const [round, order] of [[near, long], [long, near]].entries()) {
        for (const stream of order) {
          const runs = measured.get(stream)!;
          await checkpoint(database.url);
          progress(`${SECTION}: growth, round ${round + 1}, appending to the ${stream.subject} (at ${(stream.revision + 1).toLocaleString('en-US')} events)`);
          const appended = await timed(appendOne(stream), runs.appendLatency);
          runs.appends.push(appended);
          progress(`${SECTION}: growth, round ${round + 1}, ${stream.subject}: append ${describeResult(appended)}`);
          const read = await timed(readTail(stream), runs.readLatency);
          runs.reads.push(read);
          progress(`${SECTION}: growth, round ${round + 1}, ${stream.subject}: read ${describeResult(read)}`);
        }
      }
      const rounds = 'two rounds, near 0 / long / long / near 0';
      return [near, long].flatMap((stream) => {
        const runs = measured.get(stream)!;
        const range = `events ${runs.from.toLocaleString('en-US')}…${(stream.revision + 1).toLocaleString('en-US')} (warm-ups included); ${rounds}`;
        return [
          toRow({
            section: SECTION,
            scenario: GROWTH_APPEND_SCENARIO,
            subject: stream.subject,
            workers: 1,
            result: combineRuns(runs.appends, runs.appendLatency),
            note: stream === long && growthNote ? `${range}; ${growthNote}` : range,
          }),
          toRow({
            section: SECTION,
            scenario: GROWTH_READ_SCENARIO,
            subject: stream.subject,
            workers: 1,
            result: combineRuns(runs.reads, runs.readLatency),
            note: `stream of ${(stream.revision + 1).toLocaleString('en-US')} events at the end; ${rounds}`,
          }),
        ];
      });
    } finally {
      await pool.end();
    }
  });
}

/** Runs the write path and answers its rows: appenders × writer counts, then the growth check. */
export async function runWritePath(config: BenchConfig): Promise<BenchRow[]> {
  const selected = (appender: Appender): boolean => config.appenders === null || config.appenders.includes(appender.subject);
  const measured: BenchRow[] = [];
  for (const appender of runOrder.filter(selected)) {
    for (const writers of config.writers) measured.push(await measureAppender(appender, writers, config));
  }
  const appendRows = config.writers.flatMap((writers) =>
    appenders.flatMap((appender) => measured.filter((row) => row.subject === appender.subject && row.workers === writers)),
  );

  let growthRows: BenchRow[] = [];
  try {
    if (config.growth) growthRows = await measureGrowth(config);
  } catch (error) {
    progress(`${SECTION}: growth check failed: ${describeError(error)}`);
    growthRows = [failedRow({ section: SECTION, scenario: GROWTH_APPEND_SCENARIO, subject: 'stream near 0', workers: 1 }, describeError(error))];
  }

  const nearZero = 'stream near 0';
  return compareTo([...appendRows, ...growthRows], (row) => (row.scenario === APPEND_SCENARIO ? 'bare' : nearZero));
}

export const writePathSection: Section = {
  id: SECTION,
  title: 'Write path: appending one event',
  run: ({ config }) => runWritePath(config),
  legend: [
    'ops/s: successful calls per second in the measured window (after the warm-up); p50/p99: exact percentiles of every call.',
    '"rate vs baseline": ops/s as a percentage of the bare INSERT at the same writer count, or of the same stream near revision 0;',
    '"CPU/op vs baseline": client + server CPU per call as a multiple of the baseline\'s (steadier than rates on a shared machine).',
    'client CPU: this Node process per call; server CPU: the scenario database\'s PostgreSQL backends per call (local server only);',
    'host busy: all cores of the machine, whatever ran on them. Client and server share the cores here, so rates follow client + server CPU.',
  ].join('\n'),
};
