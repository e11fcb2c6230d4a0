import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { eventLogOf } from '../shared/event-store/log-queries.js';

export interface Lag {
  /** Everything up to this position is applied (the minimum over partitions). */
  checkpoint: string;
  head: string;
  /** Events written after the checkpoint. */
  events: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  seconds: number;
}

const lagRow = z.object({ head: z.bigint(), behind: z.bigint(), oldest: z.number().nullable() });

/** How far a projection trails the event store, in events and in seconds. */
export async function lagOf(pool: DatabasePool, checkpoint: bigint | null): Promise<Lag> {
  const through = checkpoint ?? 0n;
  const log = eventLogOf(pool);
  if (log) {
    // Another event store (KurrentDB): asked through its reads, the count bounded by them.
    const [head, backlog] = await Promise.all([log.head(), log.backlog(through, 1_000_000)]);
    return {
      checkpoint: through.toString(),
      head: head.toString(),
      events: backlog.events,
      seconds: backlog.oldest === null ? 0 : Math.max(0, (Date.now() - backlog.oldest.getTime()) / 1000),
    };
  }
  const row = lagRow.parse(
    await pool.one(sql.unsafe`
      select coalesce((select max(position) from es_events), 0)::bigint as head,
             (select count(*) from (select 1 from es_events where position > ${through.toString()}::bigint limit 1000000) b)::bigint as behind,
             (select extract(epoch from recorded_at) * 1000 from es_events where position > ${through.toString()}::bigint order by position limit 1)::float8 as oldest`),
  );
  return {
    checkpoint: through.toString(),
    head: row.head.toString(),
    events: Number(row.behind),
    seconds: row.oldest === null ? 0 : Math.max(0, (Date.now() - row.oldest) / 1000),
  };
}

/** The PostgreSQL read model's checkpoint: the least of its partitions' progress. */
export async function postgresReadModelCheckpoint(pool: DatabasePool): Promise<bigint | null> {
  return z.bigint().nullable().parse(await pool.oneFirst(sql.unsafe`select min(through) from read_model.progress`));
}

/** The forwarder's checkpoint: everything up to it is on the bus. */
export async function forwarderCheckpoint(pool: DatabasePool): Promise<bigint | null> {
  const position = await pool.maybeOneFirst(sql.unsafe`select position from projection_checkpoints where name = 'forwarder'`);
  return position === null ? null : z.bigint().parse(position);
}
