import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { z } from 'zod/v4';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import type { ServerSpec } from './http-server.js';
import { LatencyHistogram } from './latency.js';
import type { TimedRunResult } from './runner.js';
import { processCpuMicros, serverCpuProbe } from './server-cpu.js';
import { describeError, progress } from './progress.js';
import { type BenchRow, failedRow, type RowInput, toRow } from './report.js';

/** A server process started for a cell; stop() ends it (and only it). */
export interface ServerProcess {
  url: string;
  pid: number;
  /** CPU time the server process has used so far, microseconds; null when unreadable. */
  cpuMicros(): number | null;
  stop(): Promise<void>;
}

const serverFile = fileURLToPath(new URL('./http-server.ts', import.meta.url));
const listening = z.object({ port: z.int().positive() });

/** Starts bench/support/http-server.ts in a child process (node --import tsx) and waits until it listens. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": flags for the server processes only (a profile of where their time goes).
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', import.meta.resolve('tsx'), serverFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_SERVER: JSON.stringify(spec) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench server did not start within 60 s')), 60_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      const parsed = listening.safeParse(message);
      if (parsed.success) resolve(parsed.data.port);
      else reject(new Error(`unexpected message from the bench server: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench server exited with code ${code} before listening`));
    });
  });
  const pid = child.pid ?? -1;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    cpuMicros: () => processCpuMicros(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface CannonCell {
  /** The server under load (its process CPU is measured). */
  server: ServerProcess;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Every request (or every request built by setupRequest). */
  request: AutocannonRequest;
  headers?: Record<string, string>;
  /** The database the server uses, for the CPU of its PostgreSQL backends. */
  databaseUrl?: string;
}

export interface CannonResult extends TimedRunResult {
  /** Answers with a status outside 2xx, by status code. */
  non2xx: number;
  statusCodes: Record<string, number>;
  /** CPU of the server process per 2xx answer, microseconds. */
  appCpuMicrosPerOp: number | null;
  /** CPU of the PostgreSQL backends per 2xx answer, microseconds. */
  databaseCpuMicrosPerOp: number | null;
}

interface RawRun {
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  seconds: number;
  latency: LatencyHistogram;
}

/**
 * One autocannon run against `url`. Latency is taken from every answer's own response time
 * (fractional milliseconds), not from autocannon's integer-millisecond histogram, so that
 * p50/p99 are exact and comparable with the other sections; only 2xx answers are timed.
 */
function cannon(url: string, cell: CannonCell, seconds: number): Promise<RawRun> {
  const latency = new LatencyHistogram();
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const instance = autocannon(
      {
        url,
        connections: cell.connections,
        duration: seconds,
        timeout: 30,
        headers: cell.headers ?? {},
        requests: [cell.request],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({ ok, non2xx, statusCodes, errors: result.errors, seconds: (performance.now() - began) / 1000, latency });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latency.record(responseTime);
      } else {
        non2xx += 1;
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      }
    });
  });
}

/**
 * A warm-up run (not counted), then the measured run, with the CPU of this process (the
 * client), of the server process, and of the database's backends over the measured run.
 */
export async function runCannon(cell: CannonCell): Promise<CannonResult> {
  if (cell.warmupSeconds > 0) await cannon(cell.server.url, cell, cell.warmupSeconds);
  const probe = cell.databaseUrl ? await serverCpuProbe(cell.databaseUrl) : null;
  try {
    await probe?.open();
    const appBefore = cell.server.cpuMicros();
    const before = cpuSnapshot();
    const run = await cannon(cell.server.url, cell, cell.seconds);
    const after = cpuSnapshot();
    const appAfter = cell.server.cpuMicros();
    const databaseMicros = probe ? await probe.close().catch(() => null) : null;
    const operations = Math.max(1, run.ok);
    const appCpuMicrosPerOp = appBefore === null || appAfter === null ? null : (appAfter - appBefore) / operations;
    const databaseCpuMicrosPerOp = probe === null ? 0 : databaseMicros === null ? null : databaseMicros / operations;
    return {
      operations: run.ok,
      errors: run.errors + run.non2xx,
      firstError:
        run.non2xx > 0 || run.errors > 0
          ? [
              ...Object.entries(run.statusCodes).map(([code, count]) => `${count}× ${code}`),
              ...(run.errors > 0 ? [`${run.errors} connection errors/timeouts`] : []),
            ].join(', ')
          : null,
      elapsedSeconds: run.seconds,
      operationsPerSecond: run.ok / run.seconds,
      latency: run.latency.summary(),
      cpu: cpuBetween(before, after, operations, availableParallelism()),
      serverCpuMicrosPerOp: appCpuMicrosPerOp === null || databaseCpuMicrosPerOp === null ? null : appCpuMicrosPerOp + databaseCpuMicrosPerOp,
      non2xx: run.non2xx,
      statusCodes: run.statusCodes,
      appCpuMicrosPerOp,
      databaseCpuMicrosPerOp: probe === null ? null : databaseCpuMicrosPerOp,
    };
  } finally {
    await probe?.end();
  }
}

/** "app 180 µs + PostgreSQL 95 µs per answer" for a row's note. */
export const cpuSplit = (result: CannonResult): string =>
  result.appCpuMicrosPerOp === null
    ? ''
    : `server CPU/answer: app ${Math.round(result.appCpuMicrosPerOp)} µs` +
      (result.databaseCpuMicrosPerOp === null ? '' : ` + PostgreSQL ${Math.round(result.databaseCpuMicrosPerOp)} µs`);

export const describeCannon = (result: CannonResult): string =>
  `${Math.round(result.operationsPerSecond).toLocaleString('en-US')} req/s, p50 ${result.latency.p50.toFixed(2)} ms, ` +
  `p99 ${result.latency.p99.toFixed(2)} ms, non-2xx ${result.non2xx}` +
  (result.errors - result.non2xx > 0 ? `, ${result.errors - result.non2xx} connection errors` : '') +
  `, client ${Math.round(result.cpu.clientMicrosPerOp)} µs/req` +
  (result.serverCpuMicrosPerOp === null ? '' : `, server ${Math.round(result.serverCpuMicrosPerOp)} µs/req`);

/** A small JSON client for seeding through the API. */
export async function api<T>(
  base: string,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/**
 * The baseline of every HTTP section: an empty fastify route, configured like buildApp's,
 * in a process of its own, measured with the same cell as the routes it stands beside.
 */
export async function emptyRouteRow(
  cell: Omit<CannonCell, 'server' | 'request'>,
  input: Omit<RowInput, 'result'>,
  section: string,
): Promise<BenchRow> {
  try {
    const empty = await startServer({ kind: 'empty' });
    try {
      progress(`${section}: ${input.subject}: ${cell.warmupSeconds} s warm-up + ${cell.seconds} s`);
      const result = await runCannon({ ...cell, server: empty, request: { method: 'GET', path: '/empty' } });
      progress(`${section}: ${input.subject}: ${describeCannon(result)}`);
      return toRow({ ...input, result, note: cpuSplit(result) });
    } finally {
      await empty.stop();
    }
  } catch (error) {
    progress(`${section}: ${input.subject} failed: ${describeError(error)}`);
    return failedRow(input, describeError(error));
  }
}
