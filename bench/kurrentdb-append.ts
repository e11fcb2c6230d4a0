/**
 * The KurrentDB adapter's append beside the PostgreSQL store's, one event per call with an
 * exact expected revision, as a stock adjustment appends. KurrentDB cannot run here: the
 * adapter talks to the gRPC test double (tests/support/kurrentdb-grpc-double.ts) served in
 * this same process. So this measures OUR CLIENT PATH (the adapter, its index of event ids
 * in PostgreSQL, @kurrent/kurrentdb-client and grpc-js), with a server that answers from
 * memory: it is not a figure of KurrentDB, whose writes go to disk and to a quorum.
 * The double's CPU counts in "client CPU" here, as it runs in the bench's process.
 */
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { migrate } from '../src/shared/db/migrate.js';
import { createAppendPool, createDatabasePool } from '../src/shared/db/pool.js';
import { KurrentDbEventStore } from '../src/shared/event-store/kurrentdb/index.js';
import type { EventStore } from '../src/shared/event-store/port.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { startKurrentDbGrpcDouble } from '../tests/support/kurrentdb-grpc-double.js';
import type { BenchConfig } from './support/config.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, type Section, toRow } from './support/report.js';
import { runTimed } from './support/runner.js';
import { serverCpuProbe } from './support/server-cpu.js';
import { stockAdjustment, stockItemStreams } from './support/stock-events.js';

const SECTION = 'kurrentdb-append';
const SCENARIO = 'append 1 event/call';
const POSTGRES = 'postgres store';
const KURRENT = 'kurrentdb adapter → double';

interface Opened {
  store: EventStore;
  close(): Promise<void>;
}

const openers: { subject: string; open(url: string, poolSize: number): Promise<Opened> }[] = [
  {
    subject: POSTGRES,
    async open(url, poolSize) {
      const pool = await createDatabasePool(url, { maximumPoolSize: poolSize });
      const appendPool = createAppendPool(url, poolSize);
      return { store: new PostgresEventStore(pool, appendPool), close: async () => (await appendPool.end(), await pool.end()) };
    },
  },
  {
    subject: KURRENT,
    async open(url, poolSize) {
      const pool = await createDatabasePool(url, { maximumPoolSize: poolSize });
      const double = await startKurrentDbGrpcDouble();
      const client = KurrentDBClient.connectionString(double.url);
      return {
        store: new KurrentDbEventStore(client, pool),
        close: async () => {
          await client.dispose();
          await double.stop();
          await pool.end();
        },
      };
    },
  },
];

async function measure(subject: string, open: (url: string, poolSize: number) => Promise<Opened>, writers: number, config: BenchConfig): Promise<BenchRow> {
  const input = { section: SECTION, scenario: SCENARIO, subject, workers: writers };
  try {
    return await withFreshDatabase(`kurrent_${subject.replace(/\W+/g, '_')}_${writers}w`, async (database) => {
      await migrate(database.url);
      const opened = await open(database.url, config.poolSize);
      try {
        await checkpoint(database.url);
        progress(`${SECTION}: ${subject}, ${writers} writer(s): ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        const serverCpu = await serverCpuProbe(database.url);
        const result = await runTimed({
          workers: writers,
          warmupMs: config.warmupSeconds * 1000,
          durationMs: config.seconds * 1000,
          serverCpu,
          createWorker: () => {
            const streams = stockItemStreams(config.streamsPerWriter);
            const revisions = streams.map(() => -1);
            let next = 0;
            return async () => {
              const index = next;
              next = (next + 1) % streams.length;
              const revision = revisions[index]!;
              const appended = await opened.store.append(streams[index]!, [stockAdjustment(revision + 2)], revision < 0 ? 'no_stream' : revision);
              if (appended.revision !== revision + 1) throw new Error(`${subject}: went to ${appended.revision}, not ${revision + 1}`);
              revisions[index] = appended.revision;
            };
          },
        }).finally(() => serverCpu.end());
        progress(`${SECTION}: ${subject}, ${writers} writer(s): ${Math.round(result.operationsPerSecond)} ops/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms`);
        return toRow({ ...input, result, note: subject === KURRENT ? 'our client path against an in-memory double in this process, not KurrentDB' : 'as main.ts builds it' });
      } finally {
        await opened.close();
      }
    });
  } catch (error) {
    progress(`${SECTION}: ${subject}, ${writers} writer(s) failed: ${describeError(error)}`);
    return failedRow(input, describeError(error));
  }
}

export const kurrentDbAppendSection: Section = {
  id: SECTION,
  title: 'Event store append: the KurrentDB adapter against its gRPC test double (our client path, not the server) beside the PostgreSQL store',
  async run({ config }) {
    const rows: BenchRow[] = [];
    for (const writers of config.writers) for (const { subject, open } of openers) rows.push(await measure(subject, open, writers, config));
    return compareTo(rows, () => POSTGRES);
  },
  legend: [
    'The KurrentDB row measures the adapter, its PostgreSQL index of event ids (two statements per append), @kurrent/kurrentdb-client and grpc-js,',
    'against the test double answering from memory in the same process (its CPU is in "client CPU"). It says what our side costs per append,',
    'nothing about KurrentDB itself. Server CPU: the PostgreSQL backends of the cell\'s database (the event store for the first row, the id index for the second).',
  ].join('\n'),
};
