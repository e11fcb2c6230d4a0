import {
  ANY,
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  type KurrentDBClient,
  NO_STREAM,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type { DatabasePool } from '../../db/pool.js';
import {
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedRevision,
} from '../port.js';
import { isSystemEvent, toRecordedEvent } from './convert.js';
import { EventIdIndex } from './event-ids.js';
import { subscribeToAll } from './subscription.js';

/** How far back a lookup searches a stream for an id whose append never got its answer. */
const UNSETTLED_SEARCH = 4_096;

const streamState = (expected: ExpectedRevision) => {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    case 'any':
      return ANY;
    default:
      if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`bad expected revision ${expected}`);
      return BigInt(expected);
  }
};

/** An id of this append is already an event of another stream: ids are unique in the store. */
export class EventIdTaken extends Error {
  constructor(readonly eventId: string, readonly streamId: string) {
    super(`Event id ${eventId} is already used in stream ${streamId}.`);
    this.name = 'EventIdTaken';
  }
}

/**
 * The KurrentDB adapter of the event store port. Events live in KurrentDB; the index of
 * event ids lives in PostgreSQL beside the read models (event-ids.ts), because the server
 * has no lookup by id and checks ids only within a stream.
 */
export class KurrentDbEventStore implements EventStore {
  private readonly ids: EventIdIndex;

  constructor(
    private readonly client: KurrentDBClient,
    pool: DatabasePool,
  ) {
    this.ids = new EventIdIndex(pool);
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const eventIds = events.map((e) => e.id);
    const state = streamState(expected);
    const { reserved, existing } = await this.ids.reserve(streamId, eventIds);
    try {
      const elsewhere = existing.find((entry) => entry.streamId !== streamId);
      if (elsewhere) throw new EventIdTaken(elsewhere.eventId, elsewhere.streamId);
      if (existing.length > 0 && reserved.size > 0) {
        throw new Error(`Stream ${streamId}: an append may repeat an earlier one whole, not in part (${existing.length} of ${eventIds.length} ids written before).`);
      }
      const last = existing.find((entry) => entry.eventId === eventIds.at(-1));
      if (reserved.size === 0 && last?.revision !== null && last?.revision !== undefined) {
        // Every id is in this stream already: the first result, whatever the expected revision now.
        const [event] = await this.readStream(streamId, { fromRevision: last.revision, maxCount: 1 });
        if (event?.id === last.eventId) return { revision: event.revision, position: event.position, written: false };
      }
      const result = await this.client.appendToStream(
        streamId,
        events.map(({ id, type, data, metadata }) => jsonEvent({ id, type, data: data as Record<string, unknown>, metadata })),
        { streamState: state },
      );
      if (!result.position) throw new Error(`Stream ${streamId}: the server answered the append without a position`);
      const revision = Number(result.nextExpectedRevision);
      await this.ids.confirm(streamId, eventIds, revision - events.length + 1);
      return { revision, position: result.position.commit, written: reserved.size > 0 };
    } catch (error) {
      await this.ids.release(reserved);
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualState === 'no_stream' ? -1 : Number(error.actualState);
        throw new WrongExpectedRevision(streamId, expected, actual);
      }
      throw error;
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const fromRevision = options.fromRevision === undefined ? (backwards ? END : START) : BigInt(options.fromRevision);
    try {
      return await this.collect(
        this.client.readStream(streamId, { direction: backwards ? BACKWARDS : FORWARDS, fromRevision, maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER }),
      );
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  async readAll({ after, maxCount = 1000 }: ReadAllOptions): Promise<RecordedEvent[]> {
    // A read from a position includes the event there; the port's `after` does not.
    const events = await this.collect(
      this.client.readAll({
        fromPosition: after === 0n ? START : { commit: after, prepare: after },
        maxCount: maxCount + 1,
        filter: excludeSystemEvents(),
      }),
    );
    return events.filter((event) => event.position > after).slice(0, maxCount);
  }

  async readEvent(eventId: string): Promise<RecordedEvent | null> {
    const entry = await this.ids.lookup(eventId);
    if (!entry) return null;
    if (entry.revision !== null) {
      const [event] = await this.readStream(entry.streamId, { fromRevision: entry.revision, maxCount: 1 });
      return event?.id === eventId ? event : null;
    }
    // Reserved, never confirmed: its append is in flight, or its process stopped before the answer.
    const recent = await this.readStream(entry.streamId, { direction: 'backwards', maxCount: UNSETTLED_SEARCH });
    const found = recent.find((event) => event.id === eventId) ?? null;
    if (found) await this.ids.settle(eventId, found.revision);
    return found;
  }

  async streamRevision(streamId: string): Promise<number> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    return last ? last.revision : -1;
  }

  async headPosition(): Promise<bigint> {
    const [last] = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents() }));
    return last?.position ?? 0n;
  }

  /**
   * The position a moment stands for: the last event the server recorded at or before it
   * (its `created` clock), read backwards from the end; 0 before the first. Not in the port:
   * asOf reads ask it through log-queries.ts.
   */
  async positionAt(at: Date, page = 500): Promise<bigint> {
    let from: { commit: bigint; prepare: bigint } | typeof END = END;
    for (;;) {
      const events = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: page, filter: excludeSystemEvents() }));
      const found = events.find((event) => event.recordedAt.getTime() <= at.getTime());
      if (found) return found.position;
      if (events.length < page) return 0n;
      const last = events.at(-1)!.position;
      from = { commit: last, prepare: last };
    }
  }

  subscribe(options: SubscribeOptions): Subscription {
    return subscribeToAll(this.client, options);
  }

  private async collect(read: AsyncIterable<ResolvedEvent>): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const resolved of read) if (!isSystemEvent(resolved)) events.push(toRecordedEvent(resolved));
    return events;
  }
}
