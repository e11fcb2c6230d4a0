import type { EventLogQueries } from '../log-queries.js';
import type { KurrentDbEventStore } from './index.js';

/** A bound on what one lag question reads from $all, so that /readyz stays cheap. */
export const KURRENTDB_BACKLOG_CAP = 10_000;

/** The event log's questions answered by KurrentDB reads (no SQL index to ask). */
export const kurrentDbLogQueries = (store: KurrentDbEventStore): EventLogQueries => ({
  head: () => store.headPosition(),
  positionAt: (at) => store.positionAt(at),
  async backlog(after, cap) {
    const events = await store.readAll({ after, maxCount: Math.min(cap, KURRENTDB_BACKLOG_CAP) });
    return { events: events.length, oldest: events[0]?.recordedAt ?? null };
  },
});
