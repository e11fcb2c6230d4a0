import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../shared/db/pool.js';
import type { RecordedEvent } from '../../shared/event-store/port.js';
import { eventRowSchema, toRecordedEvent } from '../../shared/event-store/postgres/rows.js';

/** What an auditor may narrow the trail to; every filter is optional and they combine with "and". */
export interface TrailFilter {
  storeId?: string | undefined;
  skuId?: string | undefined;
  actor?: string | undefined;
  types?: readonly string[] | undefined;
  /** Recorded at or after (the event store's clock). */
  from?: Date | undefined;
  /** Recorded before. */
  to?: Date | undefined;
}

/**
 * Events across every stream in position order, narrowed by a filter: the source of the
 * audit trail. Keyset paged by position, so a page costs the same at the end of a year of
 * history as at its start, and an export is a loop over pages that holds one at a time.
 */
export interface AuditTrailSource {
  /** Up to `limit` events strictly after `after`, in position order. */
  page(filter: TrailFilter, after: bigint, limit: number): Promise<RecordedEvent[]>;
}

/**
 * The PostgreSQL event store's trail. Each filter matches an index of migration 007 that
 * ends in position (store and SKU through the stream id, actor through the metadata), so a
 * narrow filter reads only its own events. A KurrentDB store would answer the same port
 * from its `$by_category`/`$all` reads with server-side filters.
 */
export const postgresAuditTrail = (pool: DatabasePool): AuditTrailSource => ({
  async page(filter, after, limit) {
    const where: FragmentSqlToken[] = [sql.fragment`position > ${after.toString()}::bigint`];
    if (filter.storeId !== undefined) where.push(sql.fragment`es_store_of(stream_id) = ${filter.storeId}`);
    if (filter.skuId !== undefined) where.push(sql.fragment`es_sku_of(stream_id) = ${filter.skuId}`);
    if (filter.actor !== undefined) where.push(sql.fragment`metadata->>'actor' = ${filter.actor}`);
    if (filter.types !== undefined && filter.types.length > 0) where.push(sql.fragment`type = any(${sql.array([...filter.types], 'text')})`);
    if (filter.from !== undefined) where.push(sql.fragment`recorded_at >= ${filter.from.toISOString()}::timestamptz`);
    if (filter.to !== undefined) where.push(sql.fragment`recorded_at < ${filter.to.toISOString()}::timestamptz`);
    const rows = await pool.any(sql.unsafe`
      select position, stream_id, revision, event_id, type, data, metadata, recorded_at
        from es_events where ${sql.join(where, sql.fragment` and `)}
       order by position limit ${limit}`);
    return rows.map((row) => toRecordedEvent(eventRowSchema.parse(row)));
  },
});

/** Usernames of actors, from the read model's users (a deleted user keeps their name there). */
export async function usernamesOf(pool: DatabasePool, usersTable: FragmentSqlToken, actorIds: readonly string[]): Promise<Map<string, string>> {
  if (actorIds.length === 0) return new Map();
  const rows = await pool.any(sql.unsafe`select id, username from ${usersTable} where id = any(${sql.array([...actorIds], 'uuid')})`);
  const parsed = z.array(z.object({ id: z.string(), username: z.string() })).parse(rows);
  return new Map(parsed.map((row) => [row.id, row.username]));
}
