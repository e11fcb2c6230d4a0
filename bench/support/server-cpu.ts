import { readFileSync } from 'node:fs';
import pg from 'pg';
import { z } from 'zod/v4';

/**
 * CPU time of the PostgreSQL backends serving one database, read from /proc/<pid>/stat.
 * Only possible when the server runs on this host (and /proc is readable); otherwise
 * every reading is null. Unlike host-wide figures it ignores whatever else runs on the
 * machine, so it is the steadiest measure of what an append costs the server.
 */
export interface ServerCpuProbe {
  /** Remembers the backends' CPU time now. */
  open(): Promise<void>;
  /** CPU time the backends used since open(), microseconds; null when unreadable. */
  close(): Promise<number | null>;
  end(): Promise<void>;
}

export const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux
const SAMPLE_MS = 200;

const pidRows = z.array(z.object({ pid: z.number() }));

/** A backend's CPU time so far in clock ticks (TICK_MICROS each); null when unreadable. */
export function backendTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at index 2 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
  } catch {
    return null;
  }
}

export async function serverCpuProbe(url: string): Promise<ServerCpuProbe> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  client.on('error', () => {});
  const backends = async (): Promise<number[]> => {
    const { rows } = await client.query(
      `select pid from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    return pidRows.parse(rows).map((row) => row.pid);
  };
  let opened = new Map<number, number>();
  // The last reading of every backend seen since open(): one that ends before close() (a
  // COPY or an index build on a connection of its own) still counts up to that reading.
  let seen = new Map<number, number>();
  let usable = true;
  let sampler: NodeJS.Timeout | null = null;
  const sample = async (): Promise<void> => {
    for (const pid of await backends()) {
      const ticks = backendTicks(pid);
      if (ticks !== null) seen.set(pid, ticks); // null: it ended since the listing; its last reading stands
    }
  };
  return {
    async open() {
      opened = new Map();
      seen = new Map();
      for (const pid of await backends()) {
        const ticks = backendTicks(pid);
        if (ticks === null) usable = false;
        else opened.set(pid, ticks);
      }
      sampler = setInterval(() => void sample().catch(() => {}), SAMPLE_MS);
      sampler.unref();
    },
    async close() {
      if (sampler) clearInterval(sampler);
      sampler = null;
      await sample();
      if (!usable) return null;
      let ticks = 0;
      for (const [pid, now] of seen) ticks += now - (opened.get(pid) ?? 0);
      return ticks * TICK_MICROS;
    },
    end: () => {
      if (sampler) clearInterval(sampler);
      return client.end();
    },
  };
}

/** CPU time (user + system) of any local process so far, microseconds; null when unreadable. */
export function processCpuMicros(pid: number): number | null {
  const ticks = backendTicks(pid);
  return ticks === null ? null : ticks * TICK_MICROS;
}
