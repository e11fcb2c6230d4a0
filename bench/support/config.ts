/**
 * Knobs of `npm run bench`, all from the environment so that CI and a laptop can run
 * the same command. Durations are per measured cell; the defaults keep the write path
 * under about three minutes on a 2-core machine.
 */
export interface BenchConfig {
  /** Measured seconds per cell (BENCH_SECONDS, default 5). */
  seconds: number;
  /** Warm-up seconds before each measured cell; not counted (BENCH_WARMUP_SECONDS, default 1). */
  warmupSeconds: number;
  /** Connections in every pool, the same for every appender (BENCH_POOL_SIZE, default 16). */
  poolSize: number;
  /** Concurrent writer counts to measure (BENCH_WRITERS, default "1,16"). */
  writers: number[];
  /** Streams each writer cycles over (BENCH_STREAMS_PER_WRITER, default 100). */
  streamsPerWriter: number;
  /** Size the single stream of the growth check is grown to (BENCH_GROWTH_EVENTS, default 100000). */
  growthEvents: number;
  /** Events per append while growing it (BENCH_GROWTH_BATCH, default 100). */
  growthBatch: number;
  /** Write-path appenders to run, by subject (BENCH_APPENDERS, comma-separated; default all). */
  appenders: string[] | null;
  /** Whether the write path runs its growth check (BENCH_GROWTH=off skips it). */
  growth: boolean;
  /** Sections to run, by id (BENCH_SECTIONS, comma-separated; default all). */
  sections: string[] | null;
  /** The PostgreSQL server; each scenario gets a fresh database on it. */
  serverUrl: string;
  /** Concurrent HTTP connections of every autocannon cell (BENCH_HTTP_CONNECTIONS, default 64). */
  httpConnections: number;
  /**
   * Warm-up seconds of each HTTP write cell (BENCH_HTTP_WARMUP_SECONDS, default 10): long
   * enough for the first command on each of the 1,000 items (a cold load, measured apart by
   * the cold-start section) to fall before the measured seconds, for every subject alike.
   */
  httpWarmupSeconds: number;
  /** Stock items the HTTP write cells spread their adjustments over (BENCH_HTTP_ITEMS, default 1000). */
  httpItems: number;
  /** Write-API process counts of the HTTP write cells, the same database behind them all (BENCH_HTTP_PROCESSES, default "1,2,3"). */
  httpProcesses: number[];
  /** Connections of a write API's pool (each of Stockroom's two, the classic peer's one), over all its processes (BENCH_HTTP_POOL_SIZE, default 20, the app's). */
  httpPoolSize: number;
  /** Events of the projector catch-up (BENCH_CATCHUP_EVENTS, default 1000000). */
  catchupEvents: number;
  /** Events of the catch-up replayed from es_append by concurrent writers (BENCH_CATCHUP_APPENDED, default 100000; 0 skips). */
  catchupAppended: number;
  /** Events per batch of the catch-up, as the rebuild reads them (BENCH_CATCHUP_BATCH, default 5000). */
  catchupBatch: number;
  /** Only what the point reads need of the projections section: no subscription-only read, naive peer, COPY baseline or appended catch-up (BENCH_POINT_READS_ONLY, default off). */
  pointReadsOnly: boolean;
  /** The point-read cells to run, by pair: item, page, redis (BENCH_READ_CELLS, default all). */
  readCells: string[] | null;
  /** Commands timed from answer to readable (BENCH_FRESHNESS_SAMPLES, default 300). */
  freshnessSamples: number;
  /** Commands per second offered beside the timed ones in the loaded freshness cells (BENCH_FRESHNESS_LOAD, default 200). */
  freshnessLoad: number;
  /** Watermark intervals the freshness cells compare, in ms (BENCH_WATERMARK_INTERVALS; default: 0, the design before, and the one in use). */
  watermarkIntervals: number[] | null;
  /** Kafka for the freshness cells (KAFKA_BROKERS or BENCH_KAFKA_BROKERS); null: those cells say so. */
  kafkaBrokers: string[] | null;
  /** Partitions of the bench's own topic (BENCH_KAFKA_PARTITIONS, default 6, as KafkaBus creates it). */
  kafkaPartitions: number;
  /** Redis for the bare GET baseline (BENCH_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379). */
  redisUrl: string;
  /** Websocket clients of the live fan-out cells (BENCH_LIVE_CLIENTS, default 1000). */
  liveClients: number;
  /** Changes per second offered in the paced fan-out cells (BENCH_LIVE_RATE, default 20). */
  liveRate: number;
  /** Events of the audit section's one store, spread over a year (BENCH_AUDIT_EVENTS, default 2000000). */
  auditEvents: number;
  /** Days, counted back from the end of that year, the export cells select (BENCH_AUDIT_EXPORT_DAYS, default 73: a fifth). */
  auditExportDays: number;
  /** Events in the one stream of each cold-start cell (BENCH_COLD_SIZES, default "100000,1000000"). */
  coldSizes: number[];
  /** Restarts timed per cold-start cell (BENCH_COLD_REPEATS, default 5). */
  coldRepeats: number;
  /** Commands the memory cell sends to one server process (BENCH_MEMORY_COMMANDS, default 1000000; 0 skips it). */
  memoryCommands: number;
  /** Stock items those commands are spread over (BENCH_MEMORY_ITEMS, default 100000). */
  memoryItems: number;
  /** SKUs, and stock items in one store, of the read-scale section's large read model (BENCH_SCALE_ROWS, default 1000000). */
  scaleRows: number;
  /** Timed requests per query and size in the read-scale section (BENCH_SCALE_SAMPLES, default 100). */
  scaleSamples: number;
}

const positiveNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench: ignoring ${name}=${raw} (not a positive number), using ${fallback}\n`);
    return fallback;
  }
  return value;
};

const list = (name: string): string[] | null => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return null;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
};

const wholeNumbers = (name: string, fallback: number[]): number[] => {
  const values = list(name)?.map(Number);
  if (!values) return fallback;
  const bad = values.filter((value) => !Number.isInteger(value) || value <= 0);
  if (bad.length > 0 || values.length === 0) throw new Error(`${name}: expected whole numbers above 0, comma-separated (got ${process.env[name]})`);
  return values;
};

export const serverUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function loadConfig(): BenchConfig {
  const writers = (list('BENCH_WRITERS') ?? ['1', '16'])
    .map(Number)
    .filter((count) => Number.isInteger(count) && count > 0);
  return {
    seconds: positiveNumber('BENCH_SECONDS', 5),
    warmupSeconds: positiveNumber('BENCH_WARMUP_SECONDS', 1),
    poolSize: Math.round(positiveNumber('BENCH_POOL_SIZE', 16)),
    writers: writers.length > 0 ? writers : [1, 16],
    streamsPerWriter: Math.round(positiveNumber('BENCH_STREAMS_PER_WRITER', 100)),
    growthEvents: Math.round(positiveNumber('BENCH_GROWTH_EVENTS', 100_000)),
    growthBatch: Math.round(positiveNumber('BENCH_GROWTH_BATCH', 100)),
    appenders: list('BENCH_APPENDERS'),
    growth: !['off', '0', 'false', 'no'].includes((process.env.BENCH_GROWTH ?? '').trim().toLowerCase()),
    sections: list('BENCH_SECTIONS'),
    serverUrl,
    httpConnections: Math.round(positiveNumber('BENCH_HTTP_CONNECTIONS', 64)),
    httpWarmupSeconds: positiveNumber('BENCH_HTTP_WARMUP_SECONDS', 10),
    httpItems: Math.max(10, Math.round(positiveNumber('BENCH_HTTP_ITEMS', 1_000))),
    httpProcesses: wholeNumbers('BENCH_HTTP_PROCESSES', [1, 2, 3]),
    httpPoolSize: Math.round(positiveNumber('BENCH_HTTP_POOL_SIZE', 20)),
    catchupEvents: Math.round(positiveNumber('BENCH_CATCHUP_EVENTS', 1_000_000)),
    catchupAppended: ['0', 'off'].includes((process.env.BENCH_CATCHUP_APPENDED ?? '').trim()) ? 0 : Math.round(positiveNumber('BENCH_CATCHUP_APPENDED', 100_000)),
    catchupBatch: Math.round(positiveNumber('BENCH_CATCHUP_BATCH', 5_000)),
    pointReadsOnly: ['1', 'on', 'true', 'yes'].includes((process.env.BENCH_POINT_READS_ONLY ?? '').trim().toLowerCase()),
    readCells: list('BENCH_READ_CELLS'),
    freshnessSamples: Math.round(positiveNumber('BENCH_FRESHNESS_SAMPLES', 300)),
    freshnessLoad: positiveNumber('BENCH_FRESHNESS_LOAD', 200),
    watermarkIntervals: list('BENCH_WATERMARK_INTERVALS')?.map((text) => {
      const interval = Number(text);
      if (!Number.isInteger(interval) || interval < 0) throw new Error(`BENCH_WATERMARK_INTERVALS: ${text} is not a whole number of milliseconds`);
      return interval;
    }) ?? null,
    kafkaBrokers: list('BENCH_KAFKA_BROKERS') ?? list('KAFKA_BROKERS'),
    kafkaPartitions: Math.round(positiveNumber('BENCH_KAFKA_PARTITIONS', 6)),
    redisUrl: process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    liveClients: Math.round(positiveNumber('BENCH_LIVE_CLIENTS', 1_000)),
    liveRate: positiveNumber('BENCH_LIVE_RATE', 20),
    auditEvents: Math.round(positiveNumber('BENCH_AUDIT_EVENTS', 2_000_000)),
    auditExportDays: positiveNumber('BENCH_AUDIT_EXPORT_DAYS', 73),
    coldSizes: (list('BENCH_COLD_SIZES') ?? ['100000', '1000000']).map((text) => {
      const size = Number(text);
      if (!Number.isInteger(size) || size < 2_000) throw new Error(`BENCH_COLD_SIZES: ${text} is not a whole number of events of at least 2,000`);
      return size;
    }),
    coldRepeats: Math.max(1, Math.round(positiveNumber('BENCH_COLD_REPEATS', 5))),
    memoryCommands: Math.round(Number(process.env.BENCH_MEMORY_COMMANDS ?? 1_000_000)),
    memoryItems: Math.max(1, Math.round(positiveNumber('BENCH_MEMORY_ITEMS', 100_000))),
    scaleRows: Math.max(1_000, Math.round(positiveNumber('BENCH_SCALE_ROWS', 1_000_000))),
    scaleSamples: Math.max(10, Math.round(positiveNumber('BENCH_SCALE_SAMPLES', 100))),
  };
}

/**
 * When group commit's trips beyond the first leave (BENCH_GROUP_COMMIT_EXTRA_TRIPS: at-once or
 * when-matched), for the write path's appender and the HTTP cells' servers; null: the adapter's default.
 */
export const groupCommitExtraTrips = (): 'at-once' | 'when-matched' | null => {
  const raw = process.env.BENCH_GROUP_COMMIT_EXTRA_TRIPS?.trim();
  if (!raw) return null;
  if (raw !== 'at-once' && raw !== 'when-matched') throw new Error(`BENCH_GROUP_COMMIT_EXTRA_TRIPS must be at-once or when-matched, not ${raw}`);
  return raw;
};
