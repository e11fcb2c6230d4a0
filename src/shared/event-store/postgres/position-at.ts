import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../db/pool.js';

/**
 * The position a moment stands for: the last event the store recorded at or before it (by
 * `recorded_at`, the database's clock, indexed by migration 007); 0 before the first event.
 */
export async function positionAt(pool: DatabasePool, at: Date): Promise<bigint> {
  const position = await pool.maybeOneFirst(sql.unsafe`
    select position from es_events where recorded_at <= ${at.toISOString()}::timestamptz order by recorded_at desc, position desc limit 1`);
  return position === null ? 0n : z.bigint().parse(position);
}
