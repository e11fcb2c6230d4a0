/**
 * The snapshot store port: a stream's state folded up to a revision, kept so that a process
 * with a cold cache need not fold a stream of years from its first event. An optimisation
 * only: a missing, stale or unreadable snapshot means a longer fold, never a wrong answer.
 * Kept apart from the event store port so that any event store (PostgreSQL, KurrentDB) can
 * use the same snapshots.
 */
export interface Snapshot {
  streamId: string;
  /** What produced the state (fingerprint.ts): a snapshot is read only under the same one. */
  fingerprint: string;
  /** The state covers the stream's events up to and including this revision. */
  revision: number;
  /** Position of the event at `revision`. */
  position: bigint;
  /** Chain hash of the event at `revision` (event-store/chain.ts). */
  hash: string;
  /** The state as JSON gives it back: whoever reads it parses it with its aggregate's schema. */
  state: unknown;
}

/** A snapshot row that does not parse as one: the reader folds the whole stream instead. */
export class UnreadableSnapshot extends Error {
  constructor(
    readonly streamId: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Snapshot of ${streamId} is unreadable: ${reason}`, options);
    this.name = 'UnreadableSnapshot';
  }
}

export interface SnapshotStore {
  /** The latest snapshot of a stream under this fingerprint, or null. Throws UnreadableSnapshot. */
  read(streamId: string, fingerprint: string): Promise<Snapshot | null>;
  /** Keeps it unless one at a later revision is already kept under the same fingerprint. */
  write(snapshot: Snapshot): Promise<void>;
  /** Forgets a stream's snapshot under this fingerprint: one found unreadable or not matching its stream. */
  discard(streamId: string, fingerprint: string): Promise<void>;
}
