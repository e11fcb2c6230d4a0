import { hostname } from 'node:os';
import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { newId } from '../shared/ids.js';

export const DEFAULT_HEARTBEAT_MS = 5_000;

export interface HeartbeatOptions {
  pool: DatabasePool;
  roles: readonly string[];
  /** package.json's version (src/shared/version.ts). */
  version: string;
  /** How often the row is written; the report calls a process gone after three missed. */
  intervalMs?: number;
  /** Figures a role reports about itself with each heartbeat, e.g. `{ websockets: 12 }`. */
  gauges?: () => Record<string, number>;
  log?: { warn(obj: object, msg?: string): void };
}

export interface Heartbeat {
  readonly id: string;
  /** Stops beating and deletes the row: a clean stop is not shown as a process gone. */
  stop(): Promise<void>;
}

const gaugesSchema = z.record(z.string(), z.number().refine(Number.isFinite, 'a finite number'));

/** Rows of processes that stopped beating this long ago are deleted by whoever beats next. */
const FORGET_AFTER = '1 day';

/**
 * Writes this process's row in `processes` now and then every `intervalMs`, so that any
 * replica can list the cluster. A failed write is logged and retried at the next beat: the
 * report then shows the process ageing, which is the truth as the database sees it.
 */
export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const id = newId();
  const intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_MS;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;

  const gauges = (): Record<string, number> => {
    try {
      return gaugesSchema.parse(options.gauges?.() ?? {});
    } catch (error) {
      options.log?.warn({ err: error }, 'heartbeat: the gauges could not be read; sending none');
      return {};
    }
  };
  const beat = async (): Promise<void> => {
    await options.pool.query(sql.unsafe`
      insert into processes as p (id, roles, version, host, pid, started_at, heartbeat_at, heartbeat_interval_ms, memory_rss_bytes, gauges)
      values (${id}, ${sql.array([...options.roles], 'text')}, ${options.version}, ${hostname()}, ${process.pid}, now(), now(),
              ${intervalMs}, ${process.memoryUsage.rss()}, ${JSON.stringify(gauges())}::jsonb)
      on conflict (id) do update set heartbeat_at = now(), memory_rss_bytes = excluded.memory_rss_bytes, gauges = excluded.gauges`);
    await options.pool.query(sql.unsafe`delete from processes where heartbeat_at < now() - ${FORGET_AFTER}::interval`);
  };
  const next = () => {
    timer = setTimeout(() => {
      inFlight = beat()
        .catch((error: unknown) => options.log?.warn({ err: error }, 'heartbeat failed; trying again at the next one'))
        .finally(() => {
          if (!stopped) next();
        });
    }, intervalMs);
    // A heartbeat alone never keeps the process alive.
    timer.unref();
  };

  await beat();
  next();
  return {
    id,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      await options.pool.query(sql.unsafe`delete from processes where id = ${id}`);
    },
  };
}
