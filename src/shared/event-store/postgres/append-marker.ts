import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../db/pool.js';

/**
 * The advisory lock every transaction that writes es_events holds, shared, from before it
 * draws its first position until it ends (migration 008). Keys as `pg_locks` shows a
 * two-int4 advisory lock: classid, objid, objsubid 2.
 */
export const APPEND_MARKER = { classid: 730127401, objid: 1 } as const;

/**
 * The transactions of this database holding the marker now, by virtual transaction id
 * (unique while the transaction runs, never reused at once). `pg_locks` is read live,
 * after the statement's snapshot was taken: that order is what the gap rule relies on.
 */
export const appendHoldersSql = sql.fragment`
  array(select l.virtualtransaction from pg_locks l
         where l.locktype = 'advisory'
           and l.database = (select d.oid from pg_database d where d.datname = current_database())
           and l.classid = ${APPEND_MARKER.classid}::oid and l.objid = ${APPEND_MARKER.objid}::oid and l.objsubid = 2)`;

const appendInFlightRow = z.object({ pid: z.number().nullable(), state: z.string().nullable(), seconds: z.number() });
export type AppendInFlight = z.infer<typeof appendInFlightRow>;

/**
 * Append transactions open longer than `minSeconds`, oldest first. An append is one
 * statement: one still open after a second is a session holding it in a transaction, and
 * a hole behind it holds every subscriber of the store until it ends.
 */
export async function appendsInFlight(pool: DatabasePool, minSeconds = 1): Promise<AppendInFlight[]> {
  const rows = await pool.any(sql.unsafe`
    select a.pid, a.state, extract(epoch from clock_timestamp() - a.xact_start)::float8 as seconds
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory'
       and l.database = (select d.oid from pg_database d where d.datname = current_database())
       and l.classid = ${APPEND_MARKER.classid}::oid and l.objid = ${APPEND_MARKER.objid}::oid and l.objsubid = 2
       and a.xact_start < clock_timestamp() - make_interval(secs => ${minSeconds})
     order by a.xact_start`);
  return rows.map((row) => appendInFlightRow.parse(row));
}
