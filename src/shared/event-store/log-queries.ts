/**
 * What the read side and operations ask of the event log beyond the port: its head, the
 * position a moment stands for (asOf), and how much waits after a checkpoint (lag). The
 * PostgreSQL store answers them by SQL on es_events (as-of.ts, lag.ts); another store
 * registers its own answers for the pool the process runs on.
 *
 * Why a registry keyed by the pool and not a parameter: every caller (readiness, the cluster
 * report, projection status, asOf reads) already receives the pool and nothing else of the
 * store; the composition root registers once (main.ts). See docs/decisions.md.
 */
export interface EventLogQueries {
  head(): Promise<bigint>;
  /** The last event recorded at or before `at`; 0 before the first. */
  positionAt(at: Date): Promise<bigint>;
  /** Events after `after`: how many (counted up to `cap`), and when the first was recorded. */
  backlog(after: bigint, cap: number): Promise<{ events: number; oldest: Date | null }>;
}

const registered = new WeakMap<object, EventLogQueries>();

export const registerEventLog = (pool: object, queries: EventLogQueries): void => void registered.set(pool, queries);

/** The queries registered for this pool, or null: then es_events in that database is the log. */
export const eventLogOf = (pool: object): EventLogQueries | null => registered.get(pool) ?? null;
