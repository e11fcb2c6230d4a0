import type pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod/v4';
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
import { AppendAnnouncer, announceAppends, announceAppendsSlonik } from './append-announcer.js';
import { type AppendRequest, AppendBatcher, type AppendTransport, GROUP_COMMIT_DEFAULTS, type GroupCommitOptions } from './append-batcher.js';
import { appendOutcomeSchema, eventRowSchema, fromPlainRow, missedEvents, PLAIN_EVENT_COLUMNS, toRecordedEvent } from './rows.js';
import { subscribeToAll } from './subscription.js';

const expectedCode = (expected: ExpectedRevision): number => {
  switch (expected) {
    case 'no_stream':
      return -1;
    case 'any':
      return -2;
    case 'stream_exists':
      return -3;
    default:
      if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`bad expected revision ${expected}`);
      return expected;
  }
};

// A conflict on an exact expected revision answers the events the caller missed in the same
// round trip, read after the append in the same statement (see WrongExpectedRevision.missed).
// They are read under the statement's snapshot, taken before the append locked the stream: an
// event committed in between is absent, and the caller then sees them short of `actual` and reads.
const APPEND = `select a.outcome, a.revision::text, a.last_position::text,
    case when a.outcome = 'conflict' and $2::bigint >= 0 then ${missedEvents('$1::text', '$2::bigint')} end as missed
  from es_append($1, $2, $3::jsonb) a`;
const APPEND_MANY = `select m.outcome, m.revision::text, m.last_position::text,
    case when m.outcome = 'conflict' and ($2::bigint[])[m.ord] >= 0 then ${missedEvents('($1::text[])[m.ord]', '($2::bigint[])[m.ord]')} end as missed
  from es_append_many($1::text[], $2::bigint[], $3::jsonb[]) m order by m.ord`;

/** es_append and es_append_many through plain pg (prepared once per connection). */
const pgTransport = (pool: pg.Pool): AppendTransport => ({
  one: async ({ streamId, expected, payload }) =>
    (await pool.query({ name: 'es_append', text: APPEND, values: [streamId, expected, payload] })).rows[0],
  many: async (requests) =>
    (
      await pool.query({
        name: 'es_append_many',
        text: APPEND_MANY,
        values: [requests.map((r) => r.streamId), requests.map((r) => r.expected), requests.map((r) => r.payload)],
      })
    ).rows,
});

// Ordered by the table's column, e.revision: a bare `revision` would name the text output column.
const READ_FORWARDS = `select ${PLAIN_EVENT_COLUMNS} from es_events e where e.stream_id = $1 and e.revision >= $2 order by e.revision limit $3`;
const READ_BACKWARDS = `select ${PLAIN_EVENT_COLUMNS} from es_events e where e.stream_id = $1 and e.revision <= $2 order by e.revision desc limit $3`;

/** The same through slonik. */
const slonikTransport = (pool: DatabasePool): AppendTransport => ({
  one: ({ streamId, expected, payload }) => pool.one(sql.unsafe`select * from es_append(${streamId}, ${expected}, ${payload}::jsonb)`),
  many: async (requests: readonly AppendRequest[]) => [
    ...(await pool.any(sql.unsafe`
      select outcome, revision, last_position from es_append_many(
        ${sql.array(requests.map((r) => r.streamId), 'text')},
        ${sql.array(requests.map((r) => r.expected), 'int8')},
        ${sql.array(requests.map((r) => r.payload), 'jsonb')}) order by ord`)),
  ],
});

export interface PostgresEventStoreOptions {
  /**
   * Group commit of concurrent appends (append-batcher.ts, docs/decisions.md), on by
   * default; false sends every append alone, as before it.
   */
  groupCommit?: Partial<GroupCommitOptions> | false;
  /**
   * Announce appends on APPENDED_CHANNEL (append-announcer.ts), on by default: a forwarder
   * listening reads them at once instead of at its next idle poll.
   */
  announceAppends?: boolean;
}

const columns = sql.fragment`position, stream_id, revision, event_id, type, data, metadata, recorded_at`;

/** The PostgreSQL adapter of the event store port. Its schema is migrations 001, 004, 008, 024 and 028 (group commit). */
export class PostgresEventStore implements EventStore {
  /**
   * @param appendPool a plain `pg` pool for `append` alone. The append is one statement on
   *   the hottest path; slonik's per-query work costs about a quarter of its throughput
   *   there (docs/benchmarks.md), so that one statement may skip it. Without it, slonik.
   */
  private readonly transport: AppendTransport;
  private readonly batcher: AppendBatcher | null;
  /**
   * readStream goes through the append pool too when there is one: a command's cold load
   * and its catch-up after a lost append are one stream read each, on the same hot path
   * (docs/decisions.md, "Stream reads on plain pg"). So does the subscription's poll: a
   * catch-up or a rebuild reads every event through it.
   */
  private readonly plain: pg.Pool | null;
  private readonly announcer: AppendAnnouncer | null;

  constructor(
    private readonly pool: DatabasePool,
    appendPool: pg.Pool | null = null,
    options: PostgresEventStoreOptions = {},
  ) {
    this.transport = appendPool ? pgTransport(appendPool) : slonikTransport(pool);
    this.plain = appendPool;
    this.announcer =
      options.announceAppends === false
        ? null
        : new AppendAnnouncer(() => (appendPool ? announceAppends(appendPool) : announceAppendsSlonik(pool)));
    this.batcher =
      options.groupCommit === false ? null : new AppendBatcher(this.transport, { ...GROUP_COMMIT_DEFAULTS, ...options.groupCommit });
  }

  /** Trips and appends so far (null without group commit): for benches and tests. */
  get groupCommitStats(): Readonly<{ trips: number; appends: number; fallbacks: number; overlapped: number }> | null {
    return this.batcher ? { ...this.batcher.stats } : null;
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const payload = JSON.stringify(events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })));
    const request = { streamId, expected: expectedCode(expected), payload };
    const row = appendOutcomeSchema.parse(this.batcher ? await this.batcher.append(request) : await this.transport.one(request));
    if (row.outcome === 'conflict') throw new WrongExpectedRevision(streamId, expected, Number(row.revision), this.missed(row.missed, expected, Number(row.revision)));
    if (row.last_position === null) throw new Error('es_append wrote events without a position');
    if (row.outcome === 'written') this.announcer?.announce();
    return { revision: Number(row.revision), position: row.last_position, written: row.outcome === 'written' };
  }

  /** The events a conflict answered, when they are exactly those after `expected` up to `actual`; else undefined (the caller reads). */
  private missed(rows: Record<string, unknown>[] | null | undefined, expected: ExpectedRevision, actual: number): RecordedEvent[] | undefined {
    if (!rows || typeof expected !== 'number') return undefined;
    const events = rows.map(fromPlainRow);
    // The query reads one stream: only the revisions' chain is checked.
    const contiguous = events.every((event, index) => event.revision === expected + 1 + index);
    return contiguous && events.at(-1)?.revision === actual ? events : undefined;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.maxCount ?? 1_000_000;
    if (this.plain) {
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
      const { rows } = await this.plain.query<Record<string, unknown>>({
        name: backwards ? 'es_read_backwards' : 'es_read_forwards',
        text: backwards ? READ_BACKWARDS : READ_FORWARDS,
        values: [streamId, String(from), limit],
      });
      return rows.map(fromPlainRow);
    }
    const query =
      options.direction === 'backwards'
        ? sql.unsafe`select ${columns} from es_events
             where stream_id = ${streamId} and revision <= ${options.fromRevision ?? Number.MAX_SAFE_INTEGER}
             order by revision desc limit ${limit}`
        : sql.unsafe`select ${columns} from es_events
             where stream_id = ${streamId} and revision >= ${options.fromRevision ?? 0}
             order by revision limit ${limit}`;
    return (await this.pool.any(query)).map((row) => toRecordedEvent(eventRowSchema.parse(row)));
  }

  async readAll({ after, maxCount = 1000 }: ReadAllOptions): Promise<RecordedEvent[]> {
    const rows = await this.pool.any(sql.unsafe`
      select ${columns} from es_events where position > ${after.toString()}::bigint order by position limit ${maxCount}`);
    return rows.map((row) => toRecordedEvent(eventRowSchema.parse(row)));
  }

  async readEvent(eventId: string): Promise<RecordedEvent | null> {
    const row = await this.pool.maybeOne(sql.unsafe`select ${columns} from es_events where event_id = ${eventId}`);
    return row ? toRecordedEvent(eventRowSchema.parse(row)) : null;
  }

  async streamRevision(streamId: string): Promise<number> {
    const revision = await this.pool.maybeOneFirst(
      sql.unsafe`select revision from es_streams where stream_id = ${streamId}`,
    );
    return revision === null ? -1 : Number(z.bigint().parse(revision));
  }

  async headPosition(): Promise<bigint> {
    return z.bigint().parse(await this.pool.oneFirst(sql.unsafe`select coalesce(max(position), 0)::bigint from es_events`));
  }

  subscribe(options: SubscribeOptions): Subscription {
    return subscribeToAll(this.pool, options, this.plain);
  }
}
