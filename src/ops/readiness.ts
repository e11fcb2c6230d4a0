import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { ForwarderStatus } from '../projections/forwarder.js';
import { countStuckStreams, listStuckStreams } from '../projections/postgres/stuck-streams.js';
import type { DatabasePool } from '../shared/db/pool.js';
import { withTimeout } from './timeout.js';

/**
 * A wait on a hole in the positions longer than this makes the forwarder not ready. An
 * append is one statement: waiting this long means a transaction holds an append open.
 */
export const GAP_WAIT_NOT_READY_MS = 10_000;

export const readinessCheckView = z.object({
  name: z.string(),
  ok: z.boolean(),
  reason: z.string().optional(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type ReadinessCheck = z.infer<typeof readinessCheckView>;

export interface ReadinessSources {
  pool: DatabasePool;
  forwarder: (() => ForwarderStatus) | null;
  timeoutMs?: number;
  now?: () => number;
}

/** Each check of this process's readiness; ready when every one is ok. */
export async function readinessChecks(sources: ReadinessSources): Promise<ReadinessCheck[]> {
  const timeoutMs = sources.timeoutMs ?? 1_000;
  const now = sources.now ?? Date.now;
  const checks: ReadinessCheck[] = [];
  try {
    await withTimeout(sources.pool.oneFirst(sql.unsafe`select 1`), timeoutMs, 'database');
    checks.push({ name: 'database', ok: true });
  } catch (error) {
    checks.push({ name: 'database', ok: false, reason: error instanceof Error ? error.message : String(error) });
  }
  const stuck = await withTimeout(listStuckStreams(sources.pool, { limit: 1 }), timeoutMs, 'stuck streams').catch(() => null);
  const first = stuck?.[0];
  if (first) {
    // Shown, not failing: the damage is confined to those streams and the rest is served.
    const count = await countStuckStreams(sources.pool).catch(() => 1);
    checks.push({
      name: 'stuck-streams',
      ok: true,
      reason: `the read model is stuck on ${count} stream(s), first ${first.streamId} at event ${first.eventId} (position ${first.position})`,
      detail: { count, streamId: first.streamId, eventId: first.eventId, position: first.position },
    });
  }
  const forwarder = sources.forwarder?.();
  if (forwarder?.gapWait) {
    const waitedMs = now() - forwarder.gapWait.since.getTime();
    const ok = waitedMs < GAP_WAIT_NOT_READY_MS;
    checks.push({
      name: 'forwarder-gap',
      ok,
      ...(ok ? {} : { reason: `waiting ${Math.round(waitedMs / 1000)} s on a hole after position ${forwarder.gapWait.after}: an append transaction is held open` }),
      detail: { after: forwarder.gapWait.after.toString(), waitingSeconds: Math.round(waitedMs / 100) / 10, appendsInFlight: forwarder.gapWait.holders },
    });
  }
  return checks;
}
