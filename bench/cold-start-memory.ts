/**
 * The memory of a write-api server process after many commands over many items: the
 * state cache is bounded by a count of streams (50,000), so the RSS should level off
 * once the cache is full, whatever the number of items and commands.
 *
 * BENCH_MEMORY_ITEMS stock items (10 stores) are seeded by COPY, a server process is
 * started (bench/support/http-server.ts, the app with the write-api role), and
 * BENCH_MEMORY_COMMANDS PATCHes (+1 received) go round the items in order, in eight parts;
 * after each the server's RSS is read from /proc, and the server reports its heap after a
 * full GC: RSS alone mixes what is kept with what V8 has not yet given back, the heap after
 * a GC is what the process keeps alive (the cache among it), so it is the figure that must
 * level off. Going round more items than the cache
 * holds is its worst case: every command finds its item evicted and loads it again.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrate } from '../src/shared/db/migrate.js';
import type { BenchConfig } from './support/config.js';
import { copyFrom, recordStreamRevisions } from './support/copy.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { startServer } from './support/http.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, failedRow, toRow } from './support/report.js';
import { ES_EVENTS_COPY, stockHistory } from './support/stock-history.js';
import { managerTokenAt } from './support/stockroom.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';

const SECTION = 'cold-start';
const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const mebibytes = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

/** Resident set size of a process, bytes (Linux /proc). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export async function memoryRows(config: BenchConfig): Promise<BenchRow[]> {
  const commands = config.memoryCommands;
  const itemCount = config.memoryItems;
  const scenario = `server RSS after ${count(commands)} commands over ${count(itemCount)} items`;
  if (commands <= 0) return [];
  try {
    return await withFreshDatabase('cold memory', async (database) => {
      await migrate(database.url);
      const stores = 10;
      const history = stockHistory({ stores, skus: Math.ceil(itemCount / stores), events: stores + Math.ceil(itemCount / stores) * (stores + 1) });
      progress(`${SECTION}: memory: seeding ${count(history.items.length)} stock items by COPY`);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await copyFrom(client, ES_EVENTS_COPY, history.chunks(5_000));
        await recordStreamRevisions(client, history.streamRevisions());
        await client.query('analyze');
      } finally {
        await client.end();
      }
      const token = await managerTokenAt(database.url);
      await checkpoint(database.url);
      const server = await startServer({ kind: 'app', databaseUrl: database.url, roles: 'write-api' });
      try {
        const paths = history.items.map((item) => `/api/inventory/stores/${item.storeId}/items/${item.skuId}`);
        const rows: BenchRow[] = [];
        const idle = await rssOf(server.pid);
        const idleHeap = (await server.memory()).heapUsed;
        progress(`${SECTION}: memory: server ${server.pid} started, RSS ${mebibytes(idle)} MiB, heap after GC ${mebibytes(idleHeap)} MiB`);
        let next = 0;
        let sent = 0;
        const parts = 8;
        for (let part = 1; part <= parts; part += 1) {
          const amount = Math.round((commands * part) / parts) - sent;
          const latency = new LatencyHistogram();
          let non2xx = 0;
          const before = cpuSnapshot();
          const began = performance.now();
          await new Promise<void>((resolve, reject) => {
            const instance = autocannon(
              {
                url: server.url,
                connections: config.httpConnections,
                amount,
                timeout: 30,
                headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                requests: [
                  {
                    method: 'PATCH',
                    body: JSON.stringify({ delta: 1, reason: 'received' }),
                    setupRequest: (request) => {
                      const path = paths[next % paths.length] ?? paths[0];
                      next += 1;
                      return { ...request, path };
                    },
                  },
                ],
              },
              (error) => (error ? reject(error) : resolve()),
            );
            instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
              if (statusCode >= 200 && statusCode < 300) latency.record(responseTime);
              else non2xx += 1;
            });
          });
          const seconds = (performance.now() - began) / 1000;
          sent += amount;
          const rss = await rssOf(server.pid);
          const kept = await server.memory();
          const summary = latency.summary();
          progress(`${SECTION}: memory: ${count(sent)} commands, RSS ${mebibytes(rss)} MiB, heap after GC ${mebibytes(kept.heapUsed)} MiB (${count(summary.count / seconds)}/s, p99 ${summary.p99.toFixed(1)} ms, ${non2xx} non-2xx)`);
          rows.push(
            toRow({
              section: SECTION,
              scenario,
              subject: `after ${count(sent)} commands`,
              workers: config.httpConnections,
              result: {
                operations: summary.count,
                errors: non2xx,
                firstError: non2xx > 0 ? `${non2xx} non-2xx` : null,
                elapsedSeconds: seconds,
                operationsPerSecond: summary.count / seconds,
                latency: summary,
                cpu: cpuBetween(before, cpuSnapshot(), Math.max(1, summary.count), availableParallelism()),
                serverCpuMicrosPerOp: null,
              },
              note: `server RSS ${mebibytes(rss)} MiB, heap after a full GC ${mebibytes(kept.heapUsed)} MiB, external ${mebibytes(kept.external)} MiB (after start: RSS ${mebibytes(idle)}, heap ${mebibytes(idleHeap)} MiB); ${count(itemCount)} items round-robin, cache bound 50,000 streams`,
            }),
          );
        }
        return rows;
      } finally {
        await server.stop();
      }
    });
  } catch (error) {
    progress(`${SECTION}: memory failed: ${describeError(error)}`);
    return [failedRow({ section: SECTION, scenario, subject: 'write-api server', workers: config.httpConnections }, describeError(error))];
  }
}
