import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { backoffDelayMs, REDELIVERY_BACKOFF } from '../../backoff.js';
import type { WakeSignal } from '../../db/notify-signal.js';
import type { DatabasePool } from '../../db/pool.js';
import type { GapWait, RecordedEvent, SubscribeOptions, Subscription } from '../port.js';
import { APPEND_MARKER, appendHoldersSql } from './append-marker.js';
import { eventRowSchema, fromPlainValues, PLAIN_EVENT_COLUMNS, toRecordedEvent } from './rows.js';

/**
 * Positions come from a sequence before commit, so position 11 can be visible while
 * position 10 is still in flight. Reading "everything after my checkpoint" would then
 * skip 10 for ever. The rule here:
 *
 *  - deliver rows in position order only while they are contiguous;
 *  - at a hole below a visible position H, the transaction that drew the missing one drew
 *    it before H was drawn, so before this poll's snapshot. Every writer of es_events
 *    holds the append marker (an advisory lock, migration 008) from before it draws a
 *    position to its end, so that transaction is either over or among the marker's
 *    holders, which the poll reads after its snapshot. Remember those holders;
 *  - once a later poll saw none of them still holding it, each had ended before the next
 *    poll's snapshot was taken: that poll sees their commits, and a hole still empty then
 *    is a rollback (or a position drawn outside an append) and is stepped over.
 *
 * Exact, with no timeout guessing, and a transaction elsewhere on the server that writes
 * no event is never waited on; see docs/decisions.md, "Ordering".
 */
/** The marker's holders, the same on every row of a poll (or on its one row when no event follows the checkpoint). */
const holdersSchema = z.array(z.string()).nullable();

export interface Poll {
  events: RecordedEvent[];
  /**
   * Transactions holding the append marker, read after the snapshot; null when the poll
   * did not need them (no hole in sight and none waited on).
   */
  holders: readonly string[] | null;
}

/** `needHolders`: read the marker's holders even without a hole in this batch. */
export async function pollAfter(pool: DatabasePool, after: bigint, limit: number, needHolders = false): Promise<Poll> {
  const from = after.toString();
  // Reading pg_locks costs more than the poll: only when a hole is in sight or waited on.
  const rows = await pool.any(sql.unsafe`
    with e as (
      select position, stream_id, revision, event_id, type, data, metadata, recorded_at
        from es_events where position > ${from}::bigint
       order by position limit ${limit}
    ),
    marker as (
      select case when ${needHolders}::boolean or (select coalesce(max(position) - ${from}::bigint, 0) <> count(*) from e)
                  then ${appendHoldersSql} end as holders
    )
    select e.*, marker.holders
      from marker left join e on true
     order by e.position`);
  const first = rows[0];
  if (!first) throw new Error('the poll answered no row');
  const holders = holdersSchema.parse(first['holders']);
  if (first['position'] === null) return { events: [], holders };
  // Each row parsed once (a catch-up reads millions); the holders column is left out of it.
  return { events: rows.map((row) => toRecordedEvent(eventRowSchema.parse(row))), holders };
}

/** pollAfter's statement for plain pg: the same rows, in PLAIN_EVENT_COLUMNS ($1 after, $2 limit, $3 need the holders). */
const PLAIN_POLL = `
  with e as (
    select ${PLAIN_EVENT_COLUMNS}, e.position as at
      from es_events e where e.position > $1::bigint
     order by e.position limit $2::int
  ),
  marker as (
    select case when $3::boolean or (select coalesce(max(at) - $1::bigint, 0) <> count(*) from e)
                then array(select l.virtualtransaction from pg_locks l
                            where l.locktype = 'advisory'
                              and l.database = (select d.oid from pg_database d where d.datname = current_database())
                              and l.classid = ${APPEND_MARKER.classid}::oid and l.objid = ${APPEND_MARKER.objid}::oid and l.objsubid = 2)
           end as holders
  )
  select e.position, e.stream_id, e.revision, e.event_id, e.type, e.data, e.metadata, e.recorded_at, marker.holders
    from marker left join e on true
   order by e.at`;

/**
 * pollAfter through a plain `pg` pool: a catch-up reads millions of rows, and slonik's
 * per-row work (its parsers, then eventRowSchema) cost about twice what fromPlainRow's
 * typeof checks do (docs/decisions.md, "Stream reads on plain pg"). Prepared once per connection.
 */
export async function pollAfterPlain(pool: pg.Pool, after: bigint, limit: number, needHolders = false): Promise<Poll> {
  // Rows as arrays (PLAIN_EVENT_COLUMNS, then the holders): no object per row to make and drop.
  const { rows } = await pool.query<unknown[]>({ name: 'es_poll_after_values', text: PLAIN_POLL, values: [after.toString(), limit, needHolders], rowMode: 'array' });
  const first = rows[0];
  if (!first) throw new Error('the poll answered no row');
  const holders = holdersSchema.parse(first[8]);
  if (first[0] === null) return { events: [], holders };
  const events: RecordedEvent[] = new Array(rows.length);
  for (let index = 0; index < rows.length; index += 1) events[index] = fromPlainValues(rows[index]!);
  return { events, holders };
}

/** Decides which polled events are safe to deliver; keeps the hole bookkeeping. */
export class GapTracker {
  /** Holes at or below this position are known to be rollbacks. */
  private finalThrough = 0n;
  private pending: { through: bigint; holders: ReadonlySet<string> }[] = [];
  /** The marker's holders as the previous poll saw them, after its snapshot. */
  private lastHolders: ReadonlySet<string> | null = null;
  private waitingSince: Date | null = null;

  constructor(
    private checkpoint: bigint,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get position(): bigint {
    return this.checkpoint;
  }

  /** Whether the next poll must read the marker's holders. */
  get needsHolders(): boolean {
    return this.pending.length > 0;
  }

  /** The deliverable prefix of `poll.events`; the checkpoint moves only on `acknowledge`. */
  deliverable(poll: Poll): RecordedEvent[] {
    const before = this.lastHolders;
    this.pending = this.pending.filter((mark) => {
      // Still held when the previous poll looked: this poll's snapshot may miss its commit.
      if (before === null || [...mark.holders].some((holder) => before.has(holder))) return true;
      if (mark.through > this.finalThrough) this.finalThrough = mark.through;
      return false;
    });
    this.lastHolders = poll.holders === null ? null : new Set(poll.holders);
    const deliverable: RecordedEvent[] = [];
    let cursor = this.checkpoint;
    for (const event of poll.events) {
      const contiguous = event.position === cursor + 1n || event.position - 1n <= this.finalThrough;
      if (!contiguous) {
        if (poll.holders === null) throw new Error('a poll saw a hole without reading the append marker');
        const highest = poll.events.at(-1)?.position ?? event.position;
        // One mark per hole is enough while no later position shows up; a long append
        // would otherwise pile up a mark per poll.
        const last = this.pending.at(-1);
        if (!last || last.through < highest) this.pending.push({ through: highest, holders: new Set(poll.holders) });
        break;
      }
      deliverable.push(event);
      cursor = event.position;
    }
    if (this.pending.length === 0) this.waitingSince = null;
    else this.waitingSince ??= this.now();
    return deliverable;
  }

  acknowledge(position: bigint): void {
    this.checkpoint = position;
  }

  /** True while a hole holds delivery back. */
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  /** The hole delivery waits on, or null. */
  get wait(): GapWait | null {
    if (!this.waitingSince) return null;
    return { after: this.checkpoint, since: this.waitingSince, holders: this.lastHolders?.size ?? 0 };
  }
}

/** A stop is noticed within this while waiting for an announcement. */
const STOP_CHECK_MS = 50;

/** Waits up to `idleMs` for a notification after `seen`, in steps, so that a stop does not wait it out. */
async function idleUntilWoken(signal: WakeSignal, seen: number, idleMs: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + idleMs;
  for (let left = idleMs; left > 0 && signal.generation === seen && !stopped(); left = until - Date.now()) {
    await signal.wait(seen, Math.min(left, STOP_CHECK_MS));
  }
}

/** `plain`: poll through this plain pg pool rather than slonik (see pollAfterPlain). */
export function subscribeToAll(pool: DatabasePool, options: SubscribeOptions, plain: pg.Pool | null = null): Subscription {
  const batchSize = options.batchSize ?? 500;
  const idleMs = options.idleMs ?? 20;
  const tracker = new GapTracker(options.after);
  let stopped = false;
  let wake: AbortController = new AbortController();

  const pollFrom = (after: bigint): Promise<Poll> =>
    plain ? pollAfterPlain(plain, after, batchSize, tracker.needsHolders) : pollAfter(pool, after, batchSize, tracker.needsHolders);
  const loop = (async () => {
    let failures = 0;
    /** The next page, asked for while the last full one was being delivered (see below). */
    let prefetched: Promise<Poll> | null = null;
    while (!stopped) {
      // Taken before the poll: an append announced while it runs ends the idle wait at once.
      const seen = options.wake?.generation ?? 0;
      try {
        const next = prefetched;
        prefetched = null;
        const poll = await (next ?? pollFrom(tracker.position));
        const events = tracker.deliverable(poll);
        const last = events.at(-1);
        if (last) {
          // A full page: more is likely waiting (a catch-up), so the next page is read while
          // this one is delivered, from where this one ends, with the holders this poll
          // leaves the tracker needing: the same poll the next turn would make, only
          // earlier. It is used only if this page is acknowledged; else dropped.
          if (events.length === batchSize && !stopped) {
            prefetched = pollFrom(last.position);
            prefetched.catch(() => {}); // a failure is met when it is awaited, or never (dropped)
          }
          // Not acknowledged until onEvents resolves: a failed batch is delivered again.
          try {
            await options.onEvents(events);
          } catch (error) {
            prefetched = null;
            throw error;
          }
          tracker.acknowledge(last.position);
        }
        failures = 0;
        if (events.length < batchSize) {
          if (options.wake?.listening) await idleUntilWoken(options.wake, seen, idleMs, () => stopped);
          else await sleep(idleMs, undefined, { signal: wake.signal }).catch(() => {});
        }
      } catch (error) {
        failures += 1;
        options.onError?.(error);
        // Back off, but never give up: a projection that skips is worse than one that waits.
        await sleep(backoffDelayMs(failures, REDELIVERY_BACKOFF), undefined, { signal: wake.signal }).catch(() => {});
      }
    }
  })();

  return {
    get checkpoint() {
      return tracker.position;
    },
    get gapWait() {
      return tracker.wait;
    },
    async stop() {
      stopped = true;
      wake.abort();
      await loop;
      wake = new AbortController();
    },
  };
}
