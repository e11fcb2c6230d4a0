/**
 * `npm run bench`: runs each section in turn, prints its table on stdout (progress on
 * stderr), and writes everything to bench/results/<iso timestamp>.json.
 *
 * It measures and prints; it never fails the build: a section that breaks is reported
 * as such and the run goes on, and the exit code is 0.
 *
 * A new section (HTTP, projections...) is a module exporting a `Section`, added to
 * `sections` below. BENCH_SECTIONS=write-path,... runs only the listed ones.
 */
import { cpus, totalmem, platform, release } from 'node:os';
import { loadConfig } from './support/config.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { dropLiveDatabases, serverInfo } from './support/database.js';
import { describeError, progress } from './support/progress.js';
import { type BenchReport, formatTable, type Section, writeReport } from './support/report.js';
import { auditSection } from './audit.js';
import { coldStartSection } from './cold-start.js';
import { httpWriteSection } from './http-write.js';
import { kurrentDbAppendSection } from './kurrentdb-append.js';
import { liveSection } from './live.js';
import { mailSection } from './mail.js';
import { freshnessSection, projectionsSection } from './projections.js';
import { readScaleSection } from './read-scale.js';
import { writePathSection } from './write-path.js';

const sections: Section[] = [writePathSection, kurrentDbAppendSection, httpWriteSection, projectionsSection, freshnessSection, liveSection, mailSection, auditSection, coldStartSection, readScaleSection];

const redact = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
};

async function main(): Promise<void> {
  const config = loadConfig();
  const startedAt = new Date().toISOString();
  const selected = sections.filter((section) => config.sections === null || config.sections.includes(section.id));
  const cpuList = cpus();
  const machine = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()}`,
    node: process.version,
  };
  // Another process busy on the host (a test run, a build) makes every figure noisy: say so.
  const before = cpuSnapshot();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const hostBusyBeforeStart = cpuBetween(before, cpuSnapshot(), 1, cpuList.length).hostBusyPercent;
  if (hostBusyBeforeStart !== null && hostBusyBeforeStart > 15) {
    progress(`warning: the host was ${Math.round(hostBusyBeforeStart)}% busy before the bench started; figures will be noisy`);
  }
  const server = await serverInfo().catch((error: unknown) => ({ error: describeError(error) }));
  progress(
    `${selected.map((section) => section.id).join(', ') || 'no section'} on ${redact(config.serverUrl)}; ` +
      `${machine.cpus} CPUs; ${config.seconds} s per cell after ${config.warmupSeconds} s warm-up; pool ${config.poolSize}`,
  );

  const report: BenchReport = {
    startedAt,
    finishedAt: startedAt,
    machine: { ...machine, hostBusyPercentBeforeStart: hostBusyBeforeStart },
    server,
    config: { ...config, serverUrl: redact(config.serverUrl), redisUrl: redact(config.redisUrl) },
    sections: [],
  };

  for (const section of selected) {
    const began = performance.now();
    progress(`${section.id}: starting`);
    try {
      const rows = await section.run({ config });
      const seconds = Math.round((performance.now() - began) / 100) / 10;
      report.sections.push({ id: section.id, title: section.title, seconds, rows, error: null });
      progress(`${section.id}: done in ${seconds} s`);
      process.stdout.write(`\n## ${section.title}\n\n${formatTable(rows, section.workersLabel)}\n`);
      if (section.legend) process.stdout.write(`\n${section.legend}\n`);
      if (section.goals) process.stdout.write(`\nGoals of issue 13, read against the rows above (ratios within this run):\n\n${section.goals(rows)}\n`);
    } catch (error) {
      const seconds = Math.round((performance.now() - began) / 100) / 10;
      report.sections.push({ id: section.id, title: section.title, seconds, rows: [], error: describeError(error) });
      progress(`${section.id}: failed after ${seconds} s: ${describeError(error)}`);
      process.stdout.write(`\n## ${section.title}\n\nfailed: ${describeError(error)}\n`);
    }
  }

  report.finishedAt = new Date().toISOString();
  try {
    const file = await writeReport(report);
    progress(`results written to ${file}`);
  } catch (error) {
    progress(`could not write results: ${describeError(error)}`);
  }
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  progress('interrupted: dropping the bench databases');
  void dropLiveDatabases().finally(() => process.exit(130));
});

main()
  .catch((error: unknown) => progress(`bench stopped: ${describeError(error)}`))
  .finally(async () => {
    await dropLiveDatabases();
    // Pools some libraries keep (Emmett's dumbo) must not hold the process open.
    process.exit(0);
  });
