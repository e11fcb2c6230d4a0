import type { WakeSignal } from '../db/notify-signal.js';

/**
 * The event store port. The PostgreSQL adapter implements it here; an EventStoreDB
 * adapter must pass the same contract suite (tests/contract/event-store.contract.ts).
 */

/**
 * What the writer believes about the stream before it appends:
 * - `no_stream`: the stream must not exist yet (reservations, creation);
 * - `stream_exists`: it must exist, at any revision;
 * - `any`: no check;
 * - a number: the revision of its last event must be exactly this.
 */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | number;

/** Who, why and when, carried by every event beside its data. */
export interface EventMetadata {
  actor: string | null;
  correlationId: string;
  causationId: string | null;
  /** ISO 8601, taken from the command (the domain never reads a clock). */
  at: string;
  schemaVersion: number;
  /** Set on events written under an Idempotency-Key. */
  idempotencyKey?: string;
  /** The stream's hash chain (chain.ts); absent on events written before it. */
  hash?: string;
}

export interface EventToAppend {
  /** UUID. Appending the same ids again writes nothing and answers the first result. */
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export interface RecordedEvent {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  /** 0-based revision of this event in its stream. */
  revision: number;
  /** Global position in the store; grows with time but may have holes. */
  position: bigint;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event of the append (the stream's new revision). */
  revision: number;
  /** Global position of the last event of the append. */
  position: bigint;
  /** false when every event id was already in the stream: nothing was written. */
  written: boolean;
}

/** `actual` is -1 when the stream does not exist. */
export class WrongExpectedRevision extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
    /**
     * The events after the expected revision up to `actual`, when the store could answer them
     * with the conflict (PostgreSQL: in the append's own round trip): the caller catches up
     * without a read. Absent when not given; then read the stream.
     */
    readonly missed?: readonly RecordedEvent[],
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${actual}.`);
    this.name = 'WrongExpectedRevision';
  }
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards defaults to 0, backwards to the end. */
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. */
  after: bigint;
  maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: deliver events strictly after this position. */
  after: bigint;
  /** Called with each batch in position order; the next batch waits until it resolves. */
  onEvents(events: RecordedEvent[]): Promise<void>;
  /** Called when onEvents or a read fails; the subscription retries the same batch. */
  onError?(error: unknown): void;
  batchSize?: number;
  /** How long to wait between polls when caught up. */
  idleMs?: number;
  /** Wakes the idle wait early when the store announces an append (stores that can; a hint). */
  wake?: WakeSignal | null;
}

/** A hole in the positions that holds delivery back, and since when. */
export interface GapWait {
  /** Delivery stopped after this position. */
  after: bigint;
  since: Date;
  /** Append transactions waited for, as the last poll saw them. */
  holders: number;
}

export interface Subscription {
  /** The last position delivered and acknowledged by onEvents. */
  readonly checkpoint: bigint;
  /** The hole delivery waits on now, if any (stores whose positions can have holes). */
  readonly gapWait?: GapWait | null;
  stop(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream; [] when it does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * Events of every stream after a position, in position order, as committed now. An
   * earlier position may still be committing: to read without missing one, use
   * `subscribe` (or `catchUp` in catch-up.ts), which waits such holes out.
   */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** One event by its id, or null. */
  readEvent(eventId: string): Promise<RecordedEvent | null>;
  /** Revision of the stream's last event, or -1. */
  streamRevision(streamId: string): Promise<number>;
  /** The highest position written so far (0n when empty). */
  headPosition(): Promise<bigint>;
  subscribe(options: SubscribeOptions): Subscription;
}

/** Category of a stream: the part before the first dash, as EventStoreDB reads it. */
export const streamCategory = (streamId: string): string => streamId.slice(0, Math.max(0, streamId.indexOf('-')));
