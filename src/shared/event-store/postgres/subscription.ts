import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../db/pool.js';
import type { RecordedEvent, SubscribeOptions, Subscription } from '../port.js';
import { eventRowSchema, toRecordedEvent } from './rows.js';

/**
 * Positions come from a sequence before commit, so position 11 can be visible while
 * position 10 is still in flight. Reading "everything after my checkpoint" would then
 * skip 10 for ever. The rule here:
 *
 *  - deliver rows in position order only while they are contiguous;
 *  - at a hole, remember the snapshot's xmax and the highest position seen. Every
 *    position below that was drawn by a transaction whose id is below xmax (es_append
 *    writes the stream row, which assigns the id, before it draws a position);
 *  - once the oldest transaction still running (xmin) has passed that xmax, each of
 *    those transactions has committed or rolled back: a hole still empty then is a
 *    rollback and is stepped over, never waited on for ever.
 *
 * Exact, with no timeout guessing; see docs/decisions.md, "ordering".
 */
const pollRowSchema = eventRowSchema
  .extend({
    position: z.bigint().nullable(),
    stream_id: z.string().nullable(),
    revision: z.bigint().nullable(),
    event_id: z.string().nullable(),
    type: z.string().nullable(),
    metadata: eventRowSchema.shape.metadata.nullable(),
    recorded_at: z.number().nullable(),
    snapshot_xmin: z.string(),
    snapshot_xmax: z.string(),
  });

interface Poll {
  events: RecordedEvent[];
  xmin: bigint;
  xmax: bigint;
}

export async function pollAfter(pool: DatabasePool, after: bigint, limit: number): Promise<Poll> {
  const rows = await pool.any(sql.unsafe`
    with snapshot as (
      select pg_snapshot_xmin(pg_current_snapshot())::text as snapshot_xmin,
             pg_snapshot_xmax(pg_current_snapshot())::text as snapshot_xmax
    )
    select e.*, snapshot.snapshot_xmin, snapshot.snapshot_xmax
      from snapshot
      left join lateral (
        select position, stream_id, revision, event_id, type, data, metadata, recorded_at
          from es_events where position > ${after.toString()}::bigint
         order by position limit ${limit}
      ) e on true`);
  const parsed = rows.map((row) => pollRowSchema.parse(row));
  const first = parsed[0];
  if (!first) throw new Error('snapshot query answered no row');
  const events = parsed
    .filter((row) => row.position !== null)
    .map((row) => toRecordedEvent(eventRowSchema.parse(row)));
  return { events, xmin: BigInt(first.snapshot_xmin), xmax: BigInt(first.snapshot_xmax) };
}

/** Decides which polled events are safe to deliver; keeps the hole bookkeeping. */
export class GapTracker {
  /** Holes at or below this position are known to be rollbacks. */
  private finalThrough = 0n;
  private pending: { through: bigint; xmax: bigint }[] = [];

  constructor(private checkpoint: bigint) {}

  get position(): bigint {
    return this.checkpoint;
  }

  /** The deliverable prefix of `poll.events`; the checkpoint moves only on `acknowledge`. */
  deliverable(poll: Poll): RecordedEvent[] {
    this.pending = this.pending.filter((mark) => {
      if (poll.xmin < mark.xmax) return true;
      if (mark.through > this.finalThrough) this.finalThrough = mark.through;
      return false;
    });
    const deliverable: RecordedEvent[] = [];
    let cursor = this.checkpoint;
    for (const event of poll.events) {
      const contiguous = event.position === cursor + 1n || event.position - 1n <= this.finalThrough;
      if (!contiguous) {
        const highest = poll.events.at(-1)?.position ?? event.position;
        // One mark per hole is enough while no later position shows up; a long transaction
        // elsewhere would otherwise pile up a mark per poll.
        const last = this.pending.at(-1);
        if (!last || last.through < highest) this.pending.push({ through: highest, xmax: poll.xmax });
        break;
      }
      deliverable.push(event);
      cursor = event.position;
    }
    return deliverable;
  }

  acknowledge(position: bigint): void {
    this.checkpoint = position;
  }

  /** True while a hole holds delivery back. */
  get waiting(): boolean {
    return this.pending.length > 0;
  }
}

export function subscribeToAll(pool: DatabasePool, options: SubscribeOptions): Subscription {
  const batchSize = options.batchSize ?? 500;
  const idleMs = options.idleMs ?? 20;
  const tracker = new GapTracker(options.after);
  let stopped = false;
  let wake: AbortController = new AbortController();

  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      try {
        const poll = await pollAfter(pool, tracker.position, batchSize);
        const events = tracker.deliverable(poll);
        const last = events.at(-1);
        if (last) {
          // Not acknowledged until onEvents resolves: a failed batch is delivered again.
          await options.onEvents(events);
          tracker.acknowledge(last.position);
        }
        failures = 0;
        if (events.length < batchSize) await sleep(idleMs, undefined, { signal: wake.signal }).catch(() => {});
      } catch (error) {
        failures += 1;
        options.onError?.(error);
        // Back off, but never give up: a projection that skips is worse than one that waits.
        await sleep(Math.min(5_000, 50 * 2 ** Math.min(failures, 7)), undefined, { signal: wake.signal }).catch(() => {});
      }
    }
  })();

  return {
    get checkpoint() {
      return tracker.position;
    },
    async stop() {
      stopped = true;
      wake.abort();
      await loop;
      wake = new AbortController();
    },
  };
}
