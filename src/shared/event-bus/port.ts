import type { RecordedEvent } from '../event-store/port.js';

/**
 * The event bus port: Kafka in production and tests, an in-process bus in the embedded
 * default. Delivery is at least once; one stream's events arrive in order.
 */
export interface EventBus {
  /**
   * Publishes events in position order, keyed by stream id, and resolves only when the
   * bus has durably accepted all of them. `through` is the position the publisher has
   * now published everything up to: every partition learns it (a watermark), so that a
   * consumer can tell "all events up to P are applied" without having seen them all.
   */
  publish(events: readonly RecordedEvent[], through: bigint): Promise<void>;
  subscribe(options: BusSubscribeOptions): Promise<BusSubscription>;
  /** How many partitions the bus has (each gets its own progress row). */
  partitions(): Promise<number>;
  close(): Promise<void>;
}

export interface BusBatch {
  /** May be empty when the batch carried only a watermark. */
  events: RecordedEvent[];
  partition: number;
  /** Once this batch is applied, every event of this partition up to this position is. */
  through: bigint;
}

export interface BusSubscribeOptions {
  /** Members of one group share the partitions; each group sees every event. */
  group: string;
  /**
   * `committed` (the default): the group resumes where it last committed, or from the
   * beginning, and commits after each applied batch: nothing is skipped, ever.
   * `now`: the group (one process's own) reads only what is published after `subscribe`
   * resolves, then commits like any other (a restart of its consumer resumes, never jumps
   * to the end): a live feed such as the websocket notifier, whose clients catch up on
   * anything older from the event store. Stopping the subscription deletes the group.
   */
  from?: 'committed' | 'now';
  /** Applies a batch. Throwing makes the bus deliver the same batch again, later: never skip. */
  onBatch(batch: BusBatch): Promise<void>;
  onError?(error: unknown): void;
}

export interface BusSubscription {
  stop(): Promise<void>;
}
