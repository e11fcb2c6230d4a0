import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';

/** Missed heartbeats after which a process is shown as gone. */
const MISSED_BEATS = 3;

export const processView = z.object({
  id: z.uuid(),
  roles: z.array(z.string()),
  version: z.string(),
  host: z.string(),
  pid: z.int(),
  uptimeSeconds: z.number().describe('Since its first heartbeat'),
  memoryBytes: z.int().describe('Resident set size at its last heartbeat'),
  heartbeatAgeSeconds: z.number(),
  gone: z.boolean().describe(`No heartbeat for ${MISSED_BEATS} of its intervals: it died or cannot reach the database; deleted after a day`),
  websockets: z.int().describe('Websockets open on it at its last heartbeat'),
  gauges: z.record(z.string(), z.number()).describe('Every figure it reported about itself'),
});
export type ProcessView = z.infer<typeof processView>;

const processRow = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  version: z.string(),
  host: z.string(),
  pid: z.number(),
  heartbeat_interval_ms: z.number(),
  memory_rss_bytes: z.bigint(),
  gauges: z.record(z.string(), z.number()),
  uptime: z.number(),
  age: z.number(),
});

/** Every process with a row in `processes`, oldest first; ages by the database's clock. */
export async function listProcesses(pool: DatabasePool): Promise<ProcessView[]> {
  const rows = await pool.any(sql.unsafe`
    select id, roles, version, host, pid, heartbeat_interval_ms, memory_rss_bytes, gauges,
           extract(epoch from now() - started_at)::float8 as uptime,
           extract(epoch from now() - heartbeat_at)::float8 as age
      from processes order by started_at, id`);
  return rows.map((raw) => {
    const row = processRow.parse(raw);
    const age = Math.max(0, row.age);
    return {
      id: row.id,
      roles: row.roles,
      version: row.version,
      host: row.host,
      pid: row.pid,
      uptimeSeconds: Math.max(0, row.uptime),
      memoryBytes: Number(row.memory_rss_bytes),
      heartbeatAgeSeconds: age,
      gone: age * 1000 > MISSED_BEATS * row.heartbeat_interval_ms,
      websockets: row.gauges['websockets'] ?? 0,
      gauges: row.gauges,
    };
  });
}
