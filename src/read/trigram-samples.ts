import { LRUCache } from 'lru-cache';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';

const sampleRow = z.object({ sample: z.array(z.string()).nullable() });

/**
 * The values ANALYZE sampled of a trigram index's expression (pg_stats keeps an expression
 * index's statistics under the index's name), for search-words.ts to tell common words.
 * Kept a minute: statistics change when ANALYZE runs, not with every write, and a stale
 * sample only makes a lookup slower, never its answer different.
 */
export class TrigramSamples {
  private readonly samples: LRUCache<string, readonly string[]>;

  constructor(pool: DatabasePool, schema: string, ttlMs = 60_000) {
    this.samples = new LRUCache<string, readonly string[]>({
      max: 64,
      ttl: ttlMs,
      fetchMethod: async (index) => {
        const row = await pool.maybeOne(sql.unsafe`
          select coalesce(most_common_vals::text::text[], '{}') || coalesce(histogram_bounds::text::text[], '{}') as sample
            from pg_stats
           where schemaname = ${schema} and tablename = ${index}
           limit 1`);
        return row ? (sampleRow.parse(row).sample ?? []) : [];
      },
    });
  }

  /** The sample of `index`; empty when it has no statistics yet (a new or small table). */
  async of(index: string): Promise<readonly string[]> {
    return (await this.samples.fetch(index)) ?? [];
  }
}
