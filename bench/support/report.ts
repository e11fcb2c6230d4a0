import { mkdir, writeFile } from 'node:fs/promises';
import type { BenchConfig } from './config.js';
import type { TimedRunResult } from './runner.js';

/** One measured cell: a figure, its latency, and the baseline it is read against. */
export interface BenchRow {
  /** Section id, e.g. "write-path". */
  section: string;
  /** What is measured, e.g. "append, 1 event/call". Rows of one scenario share a baseline. */
  scenario: string;
  /** Who is measured, e.g. "stockroom". */
  subject: string;
  /** Concurrent workers. */
  workers: number;
  operationsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  operations: number;
  errors: number;
  firstError: string | null;
  /** CPU time of the bench process (the client) per call, microseconds. */
  clientCpuMicrosPerOp: number;
  /** How busy the whole host was, 0-100 % of all cores (client, server and anything else). */
  hostCpuBusyPercent: number | null;
  /** Host CPU time per call, microseconds. */
  hostCpuMicrosPerOp: number | null;
  /** CPU time of the scenario database's backends per call, microseconds (local server only). */
  serverCpuMicrosPerOp: number | null;
  /** Subject of the row this one is read against (same scenario and workers), if any. */
  baseline: string | null;
  /** operationsPerSecond as a percentage of the baseline's. */
  vsBaselinePercent: number | null;
  /**
   * Client + server CPU per call as a multiple of the baseline's. Steadier than the rate
   * on a shared machine; when the cores are saturated the rate ratio tends to its inverse.
   */
  cpuVsBaseline: number | null;
  /** Diagnostic rows explain a figure; they are not a goal of their own. */
  diagnostic: boolean;
  note: string | null;
}

export interface SectionContext {
  config: BenchConfig;
}

/** A part of `npm run bench`; each lives in a module of its own and is listed in bench/run.ts. */
export interface Section {
  id: string;
  title: string;
  run(context: SectionContext): Promise<BenchRow[]>;
  /** Printed under the section's table: what its columns mean. */
  legend?: string;
  /** Header of the workers column ("writers" unless told). */
  workersLabel?: string;
  /** Printed under the legend: the section's goals read against its rows (issue 13). */
  goals?(rows: BenchRow[]): string;
}

export interface Goal {
  goal: string;
  /** What was measured, e.g. "1.62× (7,210 vs 4,450 ops/s)"; null when a row is missing or failed. */
  measured: string | null;
  met: boolean | null;
}

/** A goal read as a ratio of two rows' rates: `row` / `peer` ≥ `atLeast`. */
export function rateGoal(goal: string, rows: BenchRow[], subject: (row: BenchRow) => boolean, peer: (row: BenchRow) => boolean, atLeast: number): Goal {
  const mine = rows.find(subject);
  const theirs = rows.find(peer);
  if (!mine || !theirs || !(mine.operationsPerSecond > 0) || !(theirs.operationsPerSecond > 0)) return { goal, measured: null, met: null };
  const ratio = mine.operationsPerSecond / theirs.operationsPerSecond;
  const rate = (value: number) => Math.round(value).toLocaleString('en-US');
  return { goal, measured: `${ratio.toFixed(2)}× (${rate(mine.operationsPerSecond)} vs ${rate(theirs.operationsPerSecond)} ops/s)`, met: ratio >= atLeast };
}

/** A goal on one row's rate: at least `atLeast` per second. */
export function minimumRateGoal(goal: string, rows: BenchRow[], subject: (row: BenchRow) => boolean, atLeast: number, unit: string): Goal {
  const row = rows.find(subject);
  if (!row || !(row.operationsPerSecond > 0)) return { goal, measured: null, met: null };
  return { goal, measured: `${Math.round(row.operationsPerSecond).toLocaleString('en-US')} ${unit}/s (${row.scenario})`, met: row.operationsPerSecond >= atLeast };
}

/** A goal on one row's p99: below `underMs`. */
export function p99Goal(goal: string, rows: BenchRow[], subject: (row: BenchRow) => boolean, underMs: number): Goal {
  const row = rows.find(subject);
  if (!row || !Number.isFinite(row.p99Ms)) return { goal, measured: null, met: null };
  return { goal, measured: `${row.p99Ms.toFixed(1)} ms`, met: row.p99Ms < underMs };
}

/** The goals as a small Markdown table under the section's own. */
export function formatGoals(goals: Goal[]): string {
  const lines = ['| goal | measured in this run | met |', '|---|---|---|'];
  for (const goal of goals) lines.push(`| ${goal.goal} | ${goal.measured ?? 'not measured (row missing or failed)'} | ${goal.met === null ? '—' : goal.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

export interface RowInput {
  section: string;
  scenario: string;
  subject: string;
  workers: number;
  result: TimedRunResult;
  diagnostic?: boolean;
  note?: string;
}

export const toRow = ({ section, scenario, subject, workers, result, diagnostic = false, note }: RowInput): BenchRow => ({
  section,
  scenario,
  subject,
  workers,
  operationsPerSecond: result.operationsPerSecond,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  meanMs: result.latency.mean,
  maxMs: result.latency.max,
  operations: result.operations,
  errors: result.errors,
  firstError: result.firstError,
  clientCpuMicrosPerOp: result.cpu.clientMicrosPerOp,
  hostCpuBusyPercent: result.cpu.hostBusyPercent,
  hostCpuMicrosPerOp: result.cpu.hostMicrosPerOp,
  serverCpuMicrosPerOp: result.serverCpuMicrosPerOp,
  baseline: null,
  vsBaselinePercent: null,
  cpuVsBaseline: null,
  diagnostic,
  note: note ?? null,
});

/** Fills baseline and vsBaselinePercent from the row of `baseline` with the same scenario and workers. */
export function compareTo(rows: BenchRow[], baseline: (row: BenchRow) => string | null): BenchRow[] {
  return rows.map((row) => {
    const name = baseline(row);
    if (name === null || name === row.subject) return row;
    const base = rows.find((other) => other.scenario === row.scenario && other.workers === row.workers && other.subject === name);
    if (!base || !(base.operationsPerSecond > 0)) return { ...row, baseline: name };
    const cost = (of: BenchRow): number | null =>
      of.serverCpuMicrosPerOp === null || !Number.isFinite(of.clientCpuMicrosPerOp) ? null : of.clientCpuMicrosPerOp + of.serverCpuMicrosPerOp;
    const rowCost = cost(row);
    const baseCost = cost(base);
    return {
      ...row,
      baseline: name,
      vsBaselinePercent: (row.operationsPerSecond / base.operationsPerSecond) * 100,
      cpuVsBaseline: rowCost === null || baseCost === null || baseCost <= 0 ? null : rowCost / baseCost,
    };
  });
}

const rate = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');
const millis = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '—');

/** A Markdown table: readable in a terminal and pasted as is into docs/benchmarks.md. */
export function formatTable(rows: BenchRow[], workersLabel = 'writers'): string {
  const header = ['scenario', 'subject', workersLabel, 'ops/s', 'p50 ms', 'p99 ms', 'rate vs baseline', 'CPU/op vs baseline', 'client CPU µs/op', 'server CPU µs/op', 'host busy', 'errors', 'note'];
  const body = rows.map((row) => [
    row.scenario,
    row.diagnostic ? `${row.subject} (diagnostic)` : row.subject,
    String(row.workers),
    rate(row.operationsPerSecond),
    millis(row.p50Ms),
    millis(row.p99Ms),
    row.vsBaselinePercent === null ? '' : `${Math.round(row.vsBaselinePercent)}% of ${row.baseline ?? '?'}`,
    row.cpuVsBaseline === null ? '' : `${row.cpuVsBaseline.toFixed(1)}×`,
    Number.isFinite(row.clientCpuMicrosPerOp) ? String(Math.round(row.clientCpuMicrosPerOp)) : '—',
    row.serverCpuMicrosPerOp === null ? '—' : String(Math.round(row.serverCpuMicrosPerOp)),
    row.hostCpuBusyPercent === null ? '—' : `${Math.round(row.hostCpuBusyPercent)}%`,
    row.errors === 0 ? '0' : `${row.errors} (${row.firstError ?? ''})`,
    row.note ?? '',
  ]);
  const escape = (cell: string): string => cell.replaceAll('|', '\\|').replace(/\s+/g, ' ');
  const cells = body.map((row) => row.map(escape));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => (row[column] ?? '').length)));
  const numeric = new Set([2, 3, 4, 5, 7, 8, 9, 10]);
  const line = (cells: string[]): string =>
    `| ${cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric.has(column) ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  server: unknown;
  config: BenchConfig;
  sections: { id: string; title: string; seconds: number; rows: BenchRow[]; error: string | null }[];
}

/** bench/results/<iso timestamp>.json (the folder is git-ignored). */
export async function writeReport(report: BenchReport): Promise<string> {
  const folder = new URL('../results/', import.meta.url);
  await mkdir(folder, { recursive: true });
  const file = new URL(`${report.startedAt.replaceAll(':', '-')}.json`, folder);
  const json = JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2);
  await writeFile(file, `${json}\n`);
  return file.pathname;
}

/** The row of a cell that could not run: it shows up in the table instead of stopping the bench. */
export const failedRow = (
  input: Omit<RowInput, 'result'>,
  error: string,
): BenchRow => ({
  ...toRow({
    ...input,
    result: {
      operations: 0,
      errors: 1,
      firstError: error,
      elapsedSeconds: 0,
      operationsPerSecond: Number.NaN,
      latency: { count: 0, p50: Number.NaN, p99: Number.NaN, mean: Number.NaN, max: Number.NaN },
      cpu: { clientMicrosPerOp: Number.NaN, hostBusyPercent: null, hostMicrosPerOp: null },
      serverCpuMicrosPerOp: null,
    },
  }),
});
