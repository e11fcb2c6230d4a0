import { availableParallelism } from 'node:os';
import { cpuBetween, cpuSnapshot, type CpuSnapshot, type CpuUsage } from './cpu.js';
import { LatencyHistogram, type LatencySummary } from './latency.js';
import type { ServerCpuProbe } from './server-cpu.js';
import { describeError } from './progress.js';

/** One call of a worker: does one unit of work (one append, one read) and resolves. */
export type Operation = () => Promise<void>;

export interface TimedRunOptions {
  /** Concurrent workers; each awaits its operation in a loop, so at most one call each is in flight. */
  workers: number;
  warmupMs: number;
  durationMs: number;
  /** Builds worker i's operation before the clock starts; it keeps its own state (streams, revisions). */
  createWorker(index: number): Operation | Promise<Operation>;
  /** A worker gives up after this many failures in a row (a broken appender must not spin for ever). */
  maxConsecutiveErrors?: number;
  /** Reads the server's CPU time over the measured window, when the server is local. */
  serverCpu?: ServerCpuProbe;
  /** Records the calls' latencies into this histogram too (several runs of one cell read as one). */
  histogram?: LatencyHistogram;
}

export interface TimedRunResult {
  /** Calls that started inside the measured window and succeeded. */
  operations: number;
  /** Calls that started inside the measured window and failed. */
  errors: number;
  firstError: string | null;
  /** From the window's opening to the last measured call's completion (at least the window). */
  elapsedSeconds: number;
  operationsPerSecond: number;
  latency: LatencySummary;
  /** CPU spent in the measured window: by this process per call, and by the whole host. */
  cpu: CpuUsage;
  /** CPU time of the database's backends per call, microseconds; null when unreadable. */
  serverCpuMicrosPerOp: number | null;
}

/**
 * Runs N workers for warm-up + duration. Only calls that start after the warm-up are
 * measured; a call still in flight when the window closes is awaited and counted, and
 * the elapsed time stretches to its completion, so the rate is never flattered.
 */
export async function runTimed(options: TimedRunOptions): Promise<TimedRunResult> {
  const operations = await Promise.all(Array.from({ length: options.workers }, (_, index) => options.createWorker(index)));
  const maxConsecutiveErrors = options.maxConsecutiveErrors ?? 100;
  const histogram = new LatencyHistogram();
  let errors = 0;
  let firstError: string | null = null;

  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  let lastCompletion = stopAt;
  let windowOpened: CpuSnapshot | null = null;
  let serverProbeOpened: Promise<boolean> = Promise.resolve(false);
  const opening = setTimeout(() => {
    windowOpened = cpuSnapshot();
    const probe = options.serverCpu;
    if (probe) serverProbeOpened = probe.open().then(() => true, () => false);
  }, options.warmupMs);

  await Promise.all(
    operations.map(async (operation) => {
      let consecutiveErrors = 0;
      for (;;) {
        const began = performance.now();
        if (began >= stopAt) return;
        try {
          await operation();
          consecutiveErrors = 0;
        } catch (error) {
          firstError ??= describeError(error);
          if (began >= measureFrom) errors += 1;
          consecutiveErrors += 1;
          if (consecutiveErrors >= maxConsecutiveErrors) return;
          continue;
        }
        const ended = performance.now();
        if (began >= measureFrom) {
          histogram.record(ended - began);
          options.histogram?.record(ended - began);
          if (ended > lastCompletion) lastCompletion = ended;
        }
      }
    }),
  );

  clearTimeout(opening);
  const windowClosed = cpuSnapshot();
  const elapsedSeconds = (lastCompletion - measureFrom) / 1000;
  const latency = histogram.summary();
  const cpu = cpuBetween(windowOpened ?? windowClosed, windowClosed, latency.count, availableParallelism());
  let serverCpuMicrosPerOp: number | null = null;
  if (options.serverCpu && (await serverProbeOpened)) {
    const micros = await options.serverCpu.close().catch(() => null);
    if (micros !== null && latency.count > 0) serverCpuMicrosPerOp = micros / latency.count;
  }
  return {
    operations: latency.count,
    errors,
    firstError,
    elapsedSeconds,
    operationsPerSecond: latency.count / elapsedSeconds,
    latency,
    cpu,
    serverCpuMicrosPerOp,
  };
}

/**
 * Several runs of one cell read as one: calls and elapsed time summed (so the rate is calls
 * over the time measured), latency from the histogram they all recorded into, CPU per call
 * weighted by each run's calls and the host's busy share by its time.
 */
export function combineRuns(runs: readonly TimedRunResult[], histogram: LatencyHistogram): TimedRunResult {
  const operations = runs.reduce((total, run) => total + run.operations, 0);
  const elapsedSeconds = runs.reduce((total, run) => total + run.elapsedSeconds, 0);
  /** The runs' values weighted by `weight`; null when a run has none. */
  const weighted = (value: (run: TimedRunResult) => number | null, weight: (run: TimedRunResult) => number): number | null => {
    let total = 0;
    let weights = 0;
    for (const run of runs) {
      const one = value(run);
      if (one === null) return null;
      total += one * weight(run);
      weights += weight(run);
    }
    return weights > 0 ? total / weights : null;
  };
  const byCalls = (value: (run: TimedRunResult) => number | null) => weighted(value, (run) => run.operations);
  const byTime = (value: (run: TimedRunResult) => number | null) => weighted(value, (run) => run.elapsedSeconds);
  return {
    operations,
    errors: runs.reduce((total, run) => total + run.errors, 0),
    firstError: runs.find((run) => run.firstError !== null)?.firstError ?? null,
    elapsedSeconds,
    operationsPerSecond: elapsedSeconds > 0 ? operations / elapsedSeconds : 0,
    latency: histogram.summary(),
    cpu: {
      clientMicrosPerOp: byCalls((run) => run.cpu.clientMicrosPerOp) ?? Number.NaN,
      hostBusyPercent: byTime((run) => run.cpu.hostBusyPercent),
      hostMicrosPerOp: byCalls((run) => run.cpu.hostMicrosPerOp),
    },
    serverCpuMicrosPerOp: byCalls((run) => run.serverCpuMicrosPerOp),
  };
}
