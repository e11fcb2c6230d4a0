import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../db/pool.js';

/** Where an event id was written: its stream, and its revision once the server has answered. */
export interface EventIdEntry {
  eventId: string;
  streamId: string;
  /** null while its append is in flight, or when a crash came between the append and its answer. */
  revision: number | null;
}

const entrySchema = z.object({
  event_id: z.string(),
  stream_id: z.string(),
  revision: z.union([z.bigint(), z.number()]).nullable(),
});
const toEntry = (row: unknown): EventIdEntry => {
  const parsed = entrySchema.parse(row);
  return { eventId: parsed.event_id, streamId: parsed.stream_id, revision: parsed.revision === null ? null : Number(parsed.revision) };
};

/**
 * The index of event ids KurrentDB lacks (migration 019): the port's lookup by id, and the
 * check that an id is used once in the whole store, which the server makes only within a
 * stream. Reserved before the append, confirmed after; see docs/decisions.md.
 */
export class EventIdIndex {
  constructor(private readonly pool: DatabasePool) {}

  /** Reserves the ids for `streamId`: answers those reserved now, and the entries that existed. */
  async reserve(streamId: string, eventIds: string[]): Promise<{ reserved: Set<string>; existing: EventIdEntry[] }> {
    const ids = sql.array(eventIds, 'uuid');
    const reserved = await this.pool.anyFirst(sql.unsafe`
      insert into kurrentdb_event_ids (event_id, stream_id)
      select id, ${streamId} from unnest(${ids}) as id
      on conflict (event_id) do nothing
      returning event_id::text`);
    const mine = new Set(z.array(z.string()).parse(reserved));
    if (mine.size === eventIds.length) return { reserved: mine, existing: [] };
    const rows = await this.pool.any(sql.unsafe`
      select event_id::text, stream_id, revision from kurrentdb_event_ids where event_id = any(${ids})`);
    return { reserved: mine, existing: rows.map(toEntry).filter((entry) => !mine.has(entry.eventId)) };
  }

  /** The append was answered: each id gets its revision (written again if a failed twin released it). */
  async confirm(streamId: string, eventIds: string[], firstRevision: number): Promise<void> {
    const revisions = eventIds.map((_, index) => firstRevision + index);
    await this.pool.query(sql.unsafe`
      insert into kurrentdb_event_ids (event_id, stream_id, revision)
      select * from unnest(${sql.array(eventIds, 'uuid')}, ${sql.array(eventIds.map(() => streamId), 'text')}, ${sql.array(revisions, 'int8')})
      on conflict (event_id) do update set revision = excluded.revision where kurrentdb_event_ids.stream_id = excluded.stream_id`);
  }

  /** The append failed: its reservations go, unless a twin append of the same ids got them confirmed. */
  async release(eventIds: Iterable<string>): Promise<void> {
    const ids = [...eventIds];
    if (ids.length === 0) return;
    await this.pool.query(sql.unsafe`delete from kurrentdb_event_ids where event_id = any(${sql.array(ids, 'uuid')}) and revision is null`);
  }

  async lookup(eventId: string): Promise<EventIdEntry | null> {
    if (!z.uuid().safeParse(eventId).success) return null;
    const row = await this.pool.maybeOne(sql.unsafe`
      select event_id::text, stream_id, revision from kurrentdb_event_ids where event_id = ${eventId}::uuid`);
    return row ? toEntry(row) : null;
  }

  async settle(eventId: string, revision: number): Promise<void> {
    await this.pool.query(sql.unsafe`update kurrentdb_event_ids set revision = ${revision} where event_id = ${eventId}::uuid`);
  }
}
