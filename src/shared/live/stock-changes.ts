import type { StockLevel } from '../stock-level.js';

/**
 * Live stock changes: what the notifier (src/projections/notifier) offers the websocket
 * endpoint (src/read/ws). The two halves meet here and in the composition root only.
 */

/** One change of one stock item, as a `stock` frame carries it: the level it left, and why. */
export interface StockChange extends StockLevel {
  /** The event type that made the change: StockAdjusted, StockCounted, ... */
  event: string;
  /** The adjustment's reason (received, sold, ...), `count` for a count, else null. */
  reason: string | null;
  /** The user id that made the change. */
  actor: string | null;
  at: Date;
}

export interface LiveListener {
  (changes: readonly StockChange[]): void;
}

export interface StockChangeFeed {
  /**
   * Calls `listener` with every change the feed sees from now on, per item in revision
   * order. A change seen again (the bus delivers at least once) may be passed again: the
   * listener drops what it already has.
   */
  listen(listener: LiveListener): () => void;
  /**
   * Every change after `after` of the given stores, read from the event store (the source)
   * through the gap-safe subscription, up to its head as it stands when the read ends.
   * Resolves with the position read through.
   */
  replay(options: { after: bigint; storeIds: ReadonlySet<string>; onChanges(changes: StockChange[]): Promise<void>; signal?: AbortSignal }): Promise<bigint>;
  /**
   * True once everything published from now on reaches `listen`: a replay that begins after
   * this is true, followed by the live changes, misses nothing.
   */
  readonly live: boolean;
  /** The event store's head as far as a reader may see it without a gap (for `subscribed`). */
  head(): Promise<bigint>;
}
