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
  /** Appends of the app that lost a race to another writer so far, and its group commit's trips and appends (0 for a server without an event store). */
  stats(): Promise<ServerStats>;
  /** The server's memory after a full garbage collection: what it keeps alive, apart from what it has not yet freed. */
  memory(): Promise<ServerMemory>;
  stop(): Promise<void>;
}

export interface ServerStats {
  conflicts: number;
  trips: number;
  appends: number;
}

/** Bytes, from process.memoryUsage() in the server right after a full GC. */
export interface ServerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}


const serverFile = fileURLToPath(new URL('./http-server.ts', import.meta.url));
const listening = z.object({ port: z.int().positive() });
const statsReply = z.object({ stats: z.object({ conflicts: z.int().nonnegative(), trips: z.int().nonnegative(), appends: z.int().nonnegative() }) });
const memoryReply = z.object({
  memory: z.object({ rss: z.number().nonnegative(), heapUsed: z.number().nonnegative(), heapTotal: z.number().nonnegative(), external: z.number().nonnegative() }),
});

/** Sends the server a question over IPC and waits (5 s at most) for the first message its reply schema accepts. */
function ask<T>(child: ChildProcess, question: string, reply: z.ZodType<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the bench server did not answer "${question}" within 5 s`));
    }, 5_000);
    const onMessage = (message: unknown) => {
      const parsed = reply.safeParse(message);
      if (!parsed.success) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(parsed.data);
    };
    child.on('message', onMessage);
    child.send(question);
  });
}

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
    stats: async () => (await ask(child, 'stats', statsReply)).stats,
    memory: async () => (await ask(child, 'memory', memoryReply)).memory,
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
  /**
   * The server under load (its process CPU is measured), or several processes serving the
   * same database: the connections are split evenly between them, one autocannon each.
   */
  server: ServerProcess | readonly ServerProcess[];
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Every request (or every request built by setupRequest). */
  request: AutocannonRequest;
  headers?: Record<string, string>;
  /** The database the server uses, for the CPU of its PostgreSQL backends. */
  databaseUrl?: string;
  /**
   * A status that is a refusal the cell means to provoke (409: insufficient stock): such
   * answers are counted and timed as answered commands, reported apart, never as errors.
   */
  refusalStatus?: number;
  /** Called after the warm-up, right before the measured run (to read counters the cell reports). */
  onMeasureStart?: () => Promise<void>;
}

export interface CannonResult extends TimedRunResult {
  /** Answers with the cell's refusal status (in `operations`, not in `errors`). */
  refusals: number;
  /** Answers with a status outside 2xx, by status code (refusals not included). */
  non2xx: number;
  statusCodes: Record<string, number>;
  /** CPU of the server process per 2xx answer, microseconds. */
  appCpuMicrosPerOp: number | null;
  /** CPU of the PostgreSQL backends per 2xx answer, microseconds. */
  databaseCpuMicrosPerOp: number | null;
}

interface RawRun {
  ok: number;
  refusals: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  seconds: number;
  latency: LatencyHistogram;
}

/**
 * One autocannon run against `url`. Latency is taken from every answer's own response time
 * (fractional milliseconds), not from autocannon's integer-millisecond histogram, so that
 * p50/p99 are exact and comparable with the other sections; only 2xx answers (and the
 * cell's refusals) are timed, into `latency`, which several runs may share.
 */
function cannon(url: string, cell: CannonCell, connections: number, seconds: number, latency: LatencyHistogram): Promise<RawRun> {
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let refusals = 0;
  let non2xx = 0;
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        timeout: 30,
        headers: cell.headers ?? {},
        requests: [cell.request],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({ ok, refusals, non2xx, statusCodes, errors: result.errors, seconds: (performance.now() - began) / 1000, latency });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latency.record(responseTime);
      } else if (statusCode === cell.refusalStatus) {
        refusals += 1;
        latency.record(responseTime);
      } else {
        non2xx += 1;
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      }
    });
  });
}

const serversOf = (cell: CannonCell): readonly ServerProcess[] => (Array.isArray(cell.server) ? cell.server : [cell.server as ServerProcess]);

/** One run over every server of the cell at once, the connections split between them; the counts summed. */
async function cannonAll(cell: CannonCell, seconds: number): Promise<RawRun> {
  const servers = serversOf(cell);
  const latency = new LatencyHistogram();
  const runs = await Promise.all(
    servers.map((server, index) => {
      const share = Math.floor(cell.connections / servers.length) + (index < cell.connections % servers.length ? 1 : 0);
      return cannon(server.url, cell, Math.max(1, share), seconds, latency);
    }),
  );
  const statusCodes: Record<string, number> = {};
  for (const run of runs) for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  const sum = (field: 'ok' | 'refusals' | 'non2xx' | 'errors') => runs.reduce((total, run) => total + run[field], 0);
  return {
    ok: sum('ok'),
    refusals: sum('refusals'),
    non2xx: sum('non2xx'),
    statusCodes,
    errors: sum('errors'),
    seconds: Math.max(...runs.map((run) => run.seconds)),
    latency,
  };
}

/** Sum over the servers; null when one cannot be read. */
const totalCpu = (servers: readonly ServerProcess[]): number | null => {
  let total = 0;
  for (const server of servers) {
    const micros = server.cpuMicros();
    if (micros === null) return null;
    total += micros;
  }
  return total;
};

/**
 * A warm-up run (not counted), then the measured run, with the CPU of this process (the
 * client), of the server process, and of the database's backends over the measured run.
 */
export async function runCannon(cell: CannonCell): Promise<CannonResult> {
  const servers = serversOf(cell);
  if (cell.warmupSeconds > 0) await cannonAll(cell, cell.warmupSeconds);
  await cell.onMeasureStart?.();
  const probe = cell.databaseUrl ? await serverCpuProbe(cell.databaseUrl) : null;
  try {
    await probe?.open();
    const appBefore = totalCpu(servers);
    const before = cpuSnapshot();
    const run = await cannonAll(cell, cell.seconds);
    const after = cpuSnapshot();
    const appAfter = totalCpu(servers);
    const databaseMicros = probe ? await probe.close().catch(() => null) : null;
    const answered = run.ok + run.refusals;
    const operations = Math.max(1, answered);
    const appCpuMicrosPerOp = appBefore === null || appAfter === null ? null : (appAfter - appBefore) / operations;
    const databaseCpuMicrosPerOp = probe === null ? 0 : databaseMicros === null ? null : databaseMicros / operations;
    return {
      operations: answered,
      errors: run.errors + run.non2xx,
      firstError:
        run.non2xx > 0 || run.errors > 0
          ? [
              ...Object.entries(run.statusCodes).map(([code, count]) => `${count}× ${code}`),
              ...(run.errors > 0 ? [`${run.errors} connection errors/timeouts`] : []),
            ].join(', ')
          : null,
      elapsedSeconds: run.seconds,
      operationsPerSecond: answered / run.seconds,
      latency: run.latency.summary(),
      cpu: cpuBetween(before, after, operations, availableParallelism()),
      serverCpuMicrosPerOp: appCpuMicrosPerOp === null || databaseCpuMicrosPerOp === null ? null : appCpuMicrosPerOp + databaseCpuMicrosPerOp,
      refusals: run.refusals,
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
  `p99 ${result.latency.p99.toFixed(2)} ms, ` +
  (result.refusals > 0 ? `refusals ${result.refusals} (${((result.refusals / Math.max(1, result.operations)) * 100).toFixed(1)}%), ` : '') +
  `non-2xx ${result.non2xx}` +
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
  /**
   * The requests of the cell it stands beside (random paths, the bearer token), sent to an
   * empty route at that URL: the client then builds and sends what it does for the
   * Stockroom cell, and only the server's work differs. Without: one fixed path, no headers.
   */
  same?: { paths: readonly string[]; headers: Record<string, string>; note: string },
): Promise<BenchRow> {
  try {
    const empty = await startServer({ kind: 'empty' });
    try {
      progress(`${section}: ${input.subject}: ${cell.warmupSeconds} s warm-up + ${cell.seconds} s`);
      const result = same
        ? await runCannon({
            ...cell,
            server: empty,
            headers: same.headers,
            request: { method: 'GET', setupRequest: (request) => ({ ...request, path: same.paths[Math.floor(Math.random() * same.paths.length)] ?? same.paths[0] }) },
          })
        : await runCannon({ ...cell, server: empty, request: { method: 'GET', path: '/empty' } });
      progress(`${section}: ${input.subject}: ${describeCannon(result)}`);
      return toRow({ ...input, result, note: same ? `${cpuSplit(result)}; ${same.note}` : cpuSplit(result) });
    } finally {
      await empty.stop();
    }
  } catch (error) {
    progress(`${section}: ${input.subject} failed: ${describeError(error)}`);
    return failedRow(input, describeError(error));
  }
}
