/**
 * Cold start: the first command on a long stream after a restart (a new command handler,
 * its state cache empty), with and without snapshots, side by side in one run; then the
 * memory of a server process after many commands over many items (cold-start-memory.ts).
 *
 * For each size (BENCH_COLD_SIZES, default 100,000 and 1,000,000 events in one stock
 * item's stream) the stream is seeded by COPY with a correct hash chain, a snapshot is
 * taken 999 events before the head (the most a snapshot can trail with N = 1,000), and then,
 * in turn, BENCH_COLD_REPEATS times:
 *
 *   no snapshots          a handler without a snapshot store: folds the whole stream;
 *   snapshot at head      a snapshot of the head: reads it, checks the event it covers, folds nothing;
 *   snapshot 999 behind   the worst case: reads it, checks, folds the 999+ events after it;
 *   second command        the same handler's next command (state cached): the floor.
 *
 * Each is one AdjustStock through CommandHandler.handle, its append included.
 */
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { CURRENT_SCHEMA_VERSION } from '../src/shared/events/index.js';
import { chainHash, chainSeed } from '../src/shared/event-store/chain.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from '../src/shared/db/pool.js';
import type { EventMetadata } from '../src/shared/event-store/port.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { newId } from '../src/shared/ids.js';
import type { Snapshot } from '../src/shared/snapshots/port.js';
import { PostgresSnapshotStore } from '../src/shared/snapshots/postgres.js';
import { stockItems } from '../src/write/aggregates.js';
import { CommandHandler, type HandlerLog, SNAPSHOT_EVERY } from '../src/write/command-handler.js';
import { stockItemStream } from '../src/write/streams.js';
import type { BenchConfig } from './support/config.js';
import { copyField, copyFrom } from './support/copy.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, failedRow, type Section, toRow } from './support/report.js';
import type { TimedRunResult } from './support/runner.js';
import { memoryRows } from './cold-start-memory.js';

const SECTION = 'cold-start';
const COPY_EVENTS = 'copy es_events (stream_id, revision, event_id, type, data, metadata) from stdin';

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The events of one stock item, revisions [from, to), chained from `previous`; COPY text chunks. */
function* streamChunks(item: { storeId: string; skuId: string; stream: string }, from: number, to: number, chain: { hash: string; quantity: number }): Generator<string> {
  let lines: string[] = [];
  const at = new Date().toISOString();
  for (let revision = from; revision < to; revision += 1) {
    const metadata: EventMetadata = { actor: null, correlationId: newId(), causationId: null, at, schemaVersion: CURRENT_SCHEMA_VERSION };
    let type: string;
    let data: unknown;
    if (revision === 0) {
      chain.quantity = 1_000_000;
      type = 'StockItemAdded';
      data = { storeId: item.storeId, skuId: item.skuId, quantity: chain.quantity, lowStockThreshold: 5 };
    } else {
      const delta = revision % 2 === 0 ? 1 : -1;
      chain.quantity += delta;
      type = 'StockAdjusted';
      data = { delta, reason: delta > 0 ? 'received' : 'sold', note: null, reference: null, quantityAfter: chain.quantity };
    }
    const id = newId();
    chain.hash = chainHash(chain.hash, { id, type, data, metadata });
    lines.push(`${copyField(item.stream)}\t${revision}\t${id}\t${type}\t${copyField(JSON.stringify(data))}\t${copyField(JSON.stringify({ ...metadata, hash: chain.hash }))}`);
    if (lines.length === 5_000) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/** Appends revisions [from, to) of the item's stream by COPY, its es_streams row set as es_append would. */
async function seed(url: string, item: { storeId: string; skuId: string; stream: string }, from: number, to: number, chain: { hash: string; quantity: number }): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let sent = 0;
    let told = performance.now();
    const chunks = function* () {
      for (const chunk of streamChunks(item, from, to, chain)) {
        sent += 5_000;
        if (performance.now() - told > 5_000) {
          told = performance.now();
          progress(`${SECTION}: seeded ${count(Math.min(from + sent, to))} of ${count(to)} events`);
        }
        yield chunk;
      }
    };
    await client.query('begin');
    await copyFrom(client, COPY_EVENTS, chunks());
    await client.query('insert into es_streams (stream_id, revision) values ($1, $2) on conflict (stream_id) do update set revision = excluded.revision', [item.stream, to - 1]);
    await client.query('commit');
    await client.query('analyze es_events');
  } finally {
    await client.end();
  }
}

/** One-shot timings as a row: every sample kept, host CPU over the samples. */
function samplesResult(histogram: LatencyHistogram, cpu: ReturnType<typeof cpuBetween>): TimedRunResult {
  const latency = histogram.summary();
  return {
    operations: latency.count,
    errors: 0,
    firstError: null,
    elapsedSeconds: (latency.mean * latency.count) / 1000,
    operationsPerSecond: 1000 / latency.mean,
    latency,
    cpu,
    serverCpuMicrosPerOp: null,
  };
}

const silent: HandlerLog = { warn: (details, message) => progress(`${SECTION}: handler warned: ${message} ${JSON.stringify(details.reason ?? '')}`) };

async function sizeRows(config: BenchConfig, events: number, repeats: number): Promise<BenchRow[]> {
  return withFreshDatabase(`cold ${events}`, async (database) => {
    await migrate(database.url);
    const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
    const appendPool = createAppendPool(database.url, 4);
    try {
      const store = new PostgresEventStore(pool, appendPool);
      const snapshots = new PostgresSnapshotStore(pool);
      const item = { storeId: newId(), skuId: newId(), stream: '' };
      item.stream = stockItemStream(item.storeId, item.skuId);
      const chain = { hash: chainSeed(item.stream), quantity: 0 };
      const behind = SNAPSHOT_EVERY - 1;
      const began = performance.now();
      await seed(database.url, item, 0, events - behind, chain);
      // A handler with snapshots folds what is there and leaves a snapshot of it behind.
      const priming = new CommandHandler(store, { snapshots: { store: snapshots, log: silent } });
      await priming.load(stockItems, item.stream);
      await priming.snapshotsWritten();
      const worst = await snapshots.read(item.stream, stockItems.snapshots!.fingerprint);
      if (!worst) throw new Error('no snapshot after the priming fold');
      await seed(database.url, item, events - behind, events, chain);
      progress(`${SECTION}: ${count(events)} events seeded in ${((performance.now() - began) / 1000).toFixed(1)} s; snapshot at revision ${count(worst.revision)}`);
      await checkpoint(database.url);

      const cells = { none: new LatencyHistogram(), head: new LatencyHistogram(), behind: new LatencyHistogram(), second: new LatencyHistogram() };
      const cpu = { none: cpuSnapshot() };
      const spent = { none: 0, head: 0, behind: 0, second: 0 };
      const sale = { type: 'AdjustStock', storeId: item.storeId, skuId: item.skuId, delta: -1, reason: 'sold', note: null } as const;
      const command = async (handler: CommandHandler) => {
        const started = performance.now();
        const answered = await handler.handle(stockItems, item.stream, sale, { actor: null, correlationId: newId(), now: new Date() });
        return { ms: performance.now() - started, answered };
      };
      const cpuOf = async (key: 'none' | 'head' | 'behind', work: () => Promise<number>) => {
        const before = process.cpuUsage();
        const ms = await work();
        const used = process.cpuUsage(before);
        spent[key] += used.user + used.system;
        cells[key].record(ms);
        return ms;
      };
      const withSnapshots = () => new CommandHandler(store, { snapshots: { store: snapshots, log: silent } });
      for (let round = 1; round <= repeats; round += 1) {
        let head: Snapshot | null = null;
        const none = await cpuOf('none', async () => {
          const handler = new CommandHandler(store);
          const first = await command(handler);
          head = { streamId: item.stream, fingerprint: stockItems.snapshots!.fingerprint, revision: first.answered.revision, position: first.answered.position, hash: first.answered.hash, state: first.answered.state };
          const cpuBefore = process.cpuUsage();
          cells.second.record((await command(handler)).ms);
          const used = process.cpuUsage(cpuBefore);
          // Counted apart from the first command's CPU.
          spent.none -= used.user + used.system;
          spent.second += used.user + used.system;
          return first.ms;
        });
        // The snapshot the no-snapshot handler's answer describes: the stream's head but one command.
        await snapshots.discard(item.stream, worst.fingerprint);
        await snapshots.write(head!);
        const atHead = await cpuOf('head', async () => {
          const handler = withSnapshots();
          const first = await command(handler);
          await handler.snapshotsWritten();
          return first.ms;
        });
        await snapshots.discard(item.stream, worst.fingerprint);
        await snapshots.write(worst);
        const trailing = await cpuOf('behind', async () => {
          const handler = withSnapshots();
          const first = await command(handler);
          // Its fold of 1,000+ events leaves a snapshot of the head: written, then replaced by the worst again.
          await handler.snapshotsWritten();
          return first.ms;
        });
        progress(`${SECTION}: ${count(events)} events, round ${round}: no snapshots ${none.toFixed(1)} ms, snapshot at head ${atHead.toFixed(1)} ms, ${behind}+ behind ${trailing.toFixed(1)} ms`);
      }
      const streamLength = await store.streamRevision(item.stream);
      const row = (scenario: string, subject: string, histogram: LatencyHistogram, key: 'none' | 'head' | 'behind' | 'second', note: string): BenchRow => {
        // Host figures span the whole cell (the cells alternate); the client's CPU is each command's own.
        const cpuUse = { ...cpuBetween(cpu.none, cpuSnapshot(), histogram.count, availableParallelism()), clientMicrosPerOp: spent[key] / histogram.count };
        return toRow({ section: SECTION, scenario, subject, workers: 1, result: samplesResult(histogram, cpuUse), diagnostic: key === 'second', note });
      };
      const scenario = `first command after a restart, ${count(events)} events`;
      return [
        row(scenario, 'no snapshots', cells.none, 'none', `folds all ${count(events)}+ events; p50/p99 over ${repeats} restarts; client CPU is the whole command's`),
        row(scenario, 'snapshot at head', cells.head, 'head', 'reads the snapshot and the event it covers, folds nothing'),
        row(scenario, `snapshot ${behind} behind`, cells.behind, 'behind', `worst case for N = ${SNAPSHOT_EVERY}: folds ${behind}+ events after the snapshot`),
        row(scenario, 'second command (cached)', cells.second, 'second', `the floor: the state in memory; stream at ${count(streamLength + 1)} events at the end`),
      ];
    } finally {
      await pool.end();
      await appendPool.end();
    }
  });
}

/** What one snapshot write costs (upsert of a stock item's state), off the command's path. */
async function snapshotWriteRow(): Promise<BenchRow> {
  return withFreshDatabase('cold snapshot write', async (database) => {
    await migrate(database.url);
    const pool = await createDatabasePool(database.url, { maximumPoolSize: 2 });
    try {
      const snapshots = new PostgresSnapshotStore(pool);
      const histogram = new LatencyHistogram();
      const before = cpuSnapshot();
      const state = { status: 'present', storeId: newId(), skuId: newId(), quantity: 120, lowStockThreshold: 5 };
      for (let index = 0; index < 1_200; index += 1) {
        const snapshot: Snapshot = { streamId: `stock-${index % 100}`, fingerprint: stockItems.snapshots!.fingerprint, revision: index + 1, position: BigInt(index + 1), hash: 'a'.repeat(64), state };
        const started = performance.now();
        await snapshots.write(snapshot);
        if (index >= 200) histogram.record(performance.now() - started);
      }
      return toRow({ section: SECTION, scenario: 'snapshot write (upsert), one at a time', subject: 'PostgresSnapshotStore.write', workers: 1, result: samplesResult(histogram, cpuBetween(before, cpuSnapshot(), histogram.count, availableParallelism())), diagnostic: true, note: `1,000 writes after 200 of warm-up; once per ${SNAPSHOT_EVERY} appends of a stream, not awaited by the command` });
    } finally {
      await pool.end();
    }
  });
}

export const coldStartSection: Section = {
  id: SECTION,
  title: 'Cold start: the first command on a long stream after a restart, with and without snapshots',
  workersLabel: 'handlers',
  legend:
    'p50/p99 over the restarts (each a new CommandHandler, its cache empty), one AdjustStock each, append included. ' +
    'ops/s is 1000 / mean latency. Client CPU µs/op: the bench process (the handler) per first command. ' +
    'Memory rows: a write-api server process after that many commands over that many items: its RSS (/proc), and its heap after a full GC (what it keeps alive), in the note.',
  async run({ config }) {
    const rows: BenchRow[] = [];
    for (const events of config.coldSizes) {
      try {
        rows.push(...(await sizeRows(config, events, config.coldRepeats)));
      } catch (error) {
        progress(`${SECTION}: ${count(events)} events failed: ${describeError(error)}`);
        rows.push(failedRow({ section: SECTION, scenario: `first command after a restart, ${count(events)} events`, subject: 'all', workers: 1 }, describeError(error)));
      }
    }
    try {
      rows.push(await snapshotWriteRow());
    } catch (error) {
      rows.push(failedRow({ section: SECTION, scenario: 'snapshot write', subject: 'PostgresSnapshotStore.write', workers: 1 }, describeError(error)));
    }
    rows.push(...(await memoryRows(config)));
    return rows;
  },
};
