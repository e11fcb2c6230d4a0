import { type DatabasePool, type DatabaseTransactionConnection, type QuerySqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import type { BusBatch } from '../../shared/event-bus/port.js';
import type { EventStore, RecordedEvent } from '../../shared/event-store/port.js';
import { parseEvent, type StockroomEvent, UnreadableEvent } from '../../shared/events/index.js';
import type { AppliedEvent, ApplyOptions, ProjectedRow, ReadModelProjections, RowChange, RowProjection } from './projection.js';
import { notifyReadModelMoved } from '../../shared/read-model/progress-signal.js';
import { BatchedWrites, readRows, readTexts, writeTogether } from './batched-writes.js';
import { READ_MODEL } from './read-model-schema.js';

/**
 * Live batches take this lock shared; a rebuild's swap takes it exclusively, so that no
 * batch straddles the swap.
 */
export const READ_MODEL_LOCK = 'stockroom.read_model';

const lockReadModelShared = (): QuerySqlToken => sql.unsafe`select pg_advisory_xact_lock_shared(hashtext(${READ_MODEL_LOCK}))`;

/** A batch the projector cannot apply; it stops there (the bus redelivers) and says which event. */
export class ProjectionFailed extends Error {
  constructor(
    readonly event: RecordedEvent,
    cause: unknown,
  ) {
    super(`cannot project event ${event.id} (${event.type}) at position ${event.position} of ${event.streamId}: ${(cause as Error).message}`, { cause });
    this.name = 'ProjectionFailed';
  }
}

/** An event as a projection reads it; one this release cannot read stops the projector there. */
export function readForProjection(recorded: RecordedEvent): StockroomEvent {
  try {
    return parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
  } catch (error) {
    if (error instanceof UnreadableEvent) throw new ProjectionFailed(recorded, error);
    throw error;
  }
}

/**
 * Built once: zod builds a schema anew at every z.int() call, and building this one cost
 * a batch (and every watermark-only batch) some 80 µs of the projector's CPU.
 */
const partitionNumber = z.int().nonnegative();

const NO_STREAMS: ReadonlySet<string> = new Set();

/** The refusal of read_model_refuse_stuck (migration 033), however the driver wrapped it. */
function isStuckRefusal(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if ((cause as Error & { code?: unknown }).code === 'RMSTK') return true;
  }
  return false;
}

const category = (streamId: string) => streamId.slice(0, Math.max(0, streamId.indexOf('-')));

/**
 * Events applied in one transaction at most. Each event may take up to three advisory locks
 * (its stream, its SKU's summary, its store totals' SKU), held to the commit, and PostgreSQL's
 * lock table is shared by the whole server (max_locks_per_transaction 64 × 100 connections by
 * default, about 6,400): a batch of 5,000 items of one store ran out of it ("out of shared
 * memory"), and a batch that always fails would stop its partition for good. Kafka hands over
 * up to a megabyte a partition, a rebuild pages of 5,000.
 */
export const EVENTS_PER_TRANSACTION = 1_000;

/**
 * Rows an exclusive projector remembers at most; past it, it reads them back as a shared
 * one does (a history of that many streams would hold too much memory).
 */
const REMEMBERED_ROWS = 1_000_000;

/**
 * Applies batches of events to the PostgreSQL read model, set-wise: one read of the rows a
 * batch touches, the events folded in memory, one upsert per table, in one transaction with
 * the partition's progress. A repeat (revision at or below the row's) changes nothing; a
 * gap (a revision beyond the next) is filled from the event store before going on.
 */
export class PostgresProjector {
  private readonly pool: DatabasePool;
  private readonly store: EventStore;
  private readonly projections: ReadModelProjections;
  private readonly byCategory: Map<string, RowProjection<ProjectedRow>>;
  private readonly schema: string;
  /** Told of each stream marked stuck (after the batch commits or not: say it loudly either way). */
  private readonly onStuck: (failure: ProjectionFailed) => void;
  private readonly options: ApplyOptions;
  /**
   * Exclusive only: every row this projector has written, by stream. The schema started
   * empty and nobody else writes it, so a stream not here has no row and nothing need be
   * read back. Null when not exclusive, past REMEMBERED_ROWS, or after a failed batch (what
   * it remembers may then be ahead of what was committed).
   */
  private remembered: Map<string, ProjectedRow> | null;
  /** Exclusive only: rows changed but not saved yet, by projection and stream (see save). */
  private readonly held = new Map<RowProjection<ProjectedRow>, Map<string, ProjectedRow>>();
  private failed = false;
  /** Watermark-only batches waiting for the next turn of the event loop (see advance). */
  private readonly advancing: { batch: BusBatch; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /**
   * Exclusive only: the streams it marked stuck. Its schema started empty and nobody else
   * writes it, so these are all of its stuck streams, and no batch reads them back.
   */
  private readonly stuck: Set<string> | null;

  constructor(options: {
    pool: DatabasePool;
    store: EventStore;
    /** What it keeps, as the composition root registers it. */
    projections: ReadModelProjections;
    /** The schema of the read model it writes: the live one, or a rebuild's or replay's. */
    schema?: string;
    onStuck?: (failure: ProjectionFailed) => void;
    /**
     * The schema was just created empty and only this projector writes it until it is
     * swapped in (a rebuild, under its rebuild lock): no live batch, no reader, no second
     * projector. It then takes no advisory locks, applies a batch in one transaction however
     * large, and remembers the rows it wrote instead of reading them back.
     */
    exclusive?: boolean;
  }) {
    this.pool = options.pool;
    this.store = options.store;
    this.projections = options.projections;
    this.byCategory = new Map(options.projections.rows.map((projection) => [projection.category, projection]));
    this.schema = options.schema ?? READ_MODEL;
    this.onStuck = options.onStuck ?? (() => {});
    this.options = { exclusive: options.exclusive ?? false };
    this.remembered = this.options.exclusive ? new Map() : null;
    this.stuck = this.options.exclusive ? new Set() : null;
  }

  async applyBatch(batch: BusBatch): Promise<void> {
    if (this.options.exclusive) {
      // Nobody else takes these rows' locks: the lock table is not at stake, whatever the size.
      await this.pool.transaction((tx) => this.applyWithin(tx, batch, true));
      return;
    }
    // In transactions of at most EVENTS_PER_TRANSACTION events, the first ones first: each
    // records the partition through its own last event, the last one through the batch's.
    const { events } = batch;
    if (events.length === 0) return this.advance(batch);
    for (let start = 0; start === 0 || start < events.length; start += EVENTS_PER_TRANSACTION) {
      const chunk = events.slice(start, start + EVENTS_PER_TRANSACTION);
      const through = start + EVENTS_PER_TRANSACTION >= events.length ? batch.through : chunk.at(-1)!.position;
      const part = { ...batch, events: chunk, through };
      try {
        await this.applyLive(part, true);
      } catch (error) {
        // A stream of it is stuck: rolled back, and applied again reading which.
        if (!isStuckRefusal(error)) throw error;
        await this.applyLive(part, false);
      }
    }
  }

  /**
   * One transaction of a live batch. Its writes wait for its next read and go together
   * (see BatchedWrites): a change is readable after a handful of round trips rather than
   * twenty. `refuseStuck`: rather than reading which of its streams are stuck and waiting
   * for the answer before reading their rows, it fails (RMSTK) if any is, in the same
   * round trip as the locks and the rows' read (migrations 029 and 033).
   */
  private async applyLive(batch: BusBatch, refuseStuck: boolean): Promise<void> {
    await this.pool.transaction(async (tx) => {
      const writes = new BatchedWrites(tx);
      await writes.connection.query(lockReadModelShared());
      await this.applyWithin(writes.connection, batch, false, refuseStuck);
      await writes.connection.query(notifyReadModelMoved());
      await writes.flush();
    });
  }

  /**
   * A batch of watermarks only (most batches of a sparse load: one event tells its own
   * partition, the others get a watermark) moves the progress and nothing else: one round
   * trip instead of four (BEGIN, lock, upsert, COMMIT). No NOTIFY here (a batch with events
   * sends one): the six partitions' watermarks come together, and NOTIFY's lock at commit
   * made them wait for each other (18.9 → 29.3 ms p50 in onBatch on a saturated host);
   * waiters for them poll. The lock and the upsert in one call (one statement, its own
   * transaction), so that the upsert names its table only once the shared lock is granted,
   * as a batch's does: a rebuild's swap, which holds the lock, renames that schema and drops
   * the old one.
   */
  private advance(batch: BusBatch): Promise<void> {
    // Watermark-only batches of the partitions handed over together (a change's event goes
    // to one, the others get a watermark) go as one statement, one backend, one commit,
    // rather than side by side on as many connections, each with its commit.
    return new Promise((resolve, reject) => {
      this.advancing.push({ batch, resolve, reject });
      if (this.advancing.length === 1) setImmediate(() => void this.advanceTogether());
    });
  }

  private async advanceTogether(): Promise<void> {
    const waiting = this.advancing.splice(0);
    try {
      // One row per partition (an upsert may not touch a row twice), its furthest; in partition order.
      const through = new Map<number, bigint>();
      for (const { batch } of waiting) {
        const partition = partitionNumber.parse(batch.partition);
        const known = through.get(partition);
        if (known === undefined || batch.through > known) through.set(partition, batch.through);
      }
      await this.pool.query(writeTogether([lockReadModelShared(), this.progressUpsert(through)]));
    } catch (error) {
      // Every batch of it fails, and the bus hands each over again.
      for (const { reject } of waiting) reject(error);
      return;
    }
    for (const { resolve } of waiting) resolve();
  }

  /** Each partition's progress through its position, in partition order; never backwards (a redelivery of an older batch). */
  private progressUpsert(through: ReadonlyMap<number, bigint>): QuerySqlToken {
    const partitions = [...through.keys()].sort((a, b) => a - b);
    return sql.unsafe`
      insert into ${sql.identifier([this.schema, 'progress'])} as t (partition, through)
      select p, w::bigint from unnest(${sql.array(partitions, 'int4')}, ${sql.array(partitions.map((partition) => through.get(partition)!.toString()), 'text')}) as x(p, w)
      on conflict (partition) do update set through = greatest(t.through, excluded.through), updated_at = now()`;
  }

  /** The same, inside a transaction the caller holds (a rebuild's swap). */
  async applyWithin(tx: DatabaseTransactionConnection, batch: BusBatch, mayHoldBack = false, refuseStuck = false): Promise<void> {
    this.assertUsable();
    try {
      await this.applyEvents(tx, batch.events, null, mayHoldBack, refuseStuck);
    } catch (error) {
      // What it remembers and holds back may be ahead of what was committed, and held rows
      // are not in the table: an exclusive projector stops for good (the rebuild fails).
      if (this.options.exclusive) this.failed = true;
      throw error;
    }
    await tx.query(this.progressUpsert(new Map([[partitionNumber.parse(batch.partition), batch.through]])));
  }

  /**
   * Applies a stuck stream again from the event store (after a fix: an upcaster, a code
   * change, a corrected event). Answers null when it is applied and no longer stuck, or
   * the failure that keeps it stuck (recorded with one more attempt).
   */
  async retryStuck(streamId: string): Promise<ProjectionFailed | null> {
    const events = await this.store.readStream(streamId);
    return this.pool.transaction(async (tx) => {
      await tx.query(lockReadModelShared());
      const failures = await this.applyEvents(tx, events, streamId);
      const failure = failures.get(streamId) ?? null;
      if (!failure) await tx.query(sql.unsafe`delete from ${sql.identifier([this.schema, 'stuck_streams'])} where stream_id = ${streamId}`);
      return failure;
    });
  }

  /**
   * Folds and saves the events, stream by stream. A stream with an event this release
   * cannot read keeps what came before it and is marked stuck there; its later events wait
   * (a retry reads them from the store), and every other stream goes on. `retrying` is the
   * one stuck stream an operator's retry applies again.
   */
  private async applyEvents(
    tx: DatabaseTransactionConnection,
    events: readonly RecordedEvent[],
    retrying: string | null,
    mayHoldBack = false,
    refuseStuck = false,
  ): Promise<Map<string, ProjectionFailed>> {
    // One pass: each stream's events and their places in the batch, grouped by the projection
    // of its category (looked up once per stream, not once per event and projection).
    const byProjection = new Map<RowProjection<ProjectedRow>, Map<string, StreamEvents>>();
    const streams = new Map<string, StreamEvents | null>();
    for (let index = 0; index < events.length; index += 1) {
      const event = events[index]!;
      let stream = streams.get(event.streamId);
      if (stream === undefined) {
        const projection = this.byCategory.get(category(event.streamId));
        stream = projection ? { events: [], indexes: [] } : null; // reservations have no read model
        streams.set(event.streamId, stream);
        if (projection && stream) {
          let ofProjection = byProjection.get(projection);
          if (!ofProjection) byProjection.set(projection, (ofProjection = new Map()));
          ofProjection.set(event.streamId, stream);
        }
      }
      if (stream === null) continue;
      stream.events.push(event);
      stream.indexes.push(index);
    }
    const failures = new Map<string, ProjectionFailed>();
    if (byProjection.size === 0) return failures;
    const streamIds: string[] = [];
    for (const ofProjection of byProjection.values()) for (const streamId of ofProjection.keys()) streamIds.push(streamId);
    if (!this.options.exclusive) await this.lockStreams(tx, streamIds);
    // Read under the stream locks: a retry that cleared a stream has committed, or waits for us.
    // An exclusive projector marked every stuck stream of its schema itself; on a live
    // batch's connection the locks go with the read, in one round trip, and when it refuses
    // stuck streams the check goes with the locks and the rows' read (see applyLive).
    const stuckStreams = sql.identifier([this.schema, 'stuck_streams']);
    let stuck: ReadonlySet<string>;
    if (this.stuck) stuck = this.stuck;
    else if (refuseStuck && retrying === null) {
      await tx.query(sql.unsafe`
        select read_model_refuse_stuck(array(select stream_id from ${stuckStreams} where stream_id = any(${sql.array(streamIds, 'text')})))`);
      stuck = NO_STREAMS;
    } else {
      stuck = new Set(
        await readTexts(
          tx,
          sql.unsafe`
            select stream_id from ${stuckStreams}
             where stream_id = any(${sql.array(streamIds, 'text')}) and stream_id is distinct from ${retrying}`,
        ),
      );
    }
    // Each applied event in the slot of its place in the batch, so that they come out in
    // position order without a sort; null once one came from elsewhere (a gap filled from the store).
    let slots: (AppliedEvent | undefined)[] | null = isInPositionOrder(events) ? new Array<AppliedEvent | undefined>(events.length) : null;
    const applied: AppliedEvent[] = [];
    const changes: RowChange[] = [];
    const changedBy = new Map<RowProjection<ProjectedRow>, Map<string, ProjectedRow>>();
    for (const projection of this.projections.rows) {
      const ofProjection = byProjection.get(projection);
      if (!ofProjection) continue;
      const ids: string[] = [];
      for (const streamId of ofProjection.keys()) if (!stuck.has(streamId)) ids.push(streamId);
      if (ids.length === 0) continue;
      const current = await this.load(tx, projection, ids);
      const changed = new Map<string, ProjectedRow>();
      for (const streamId of ids) {
        const stream = ofProjection.get(streamId)!;
        const before = current.get(streamId) ?? null;
        const folding = this.fold(projection, before, streamId, stream.events);
        // Usually folded at once: a promise (and a turn of the microtask queue) only when the store is read.
        const folded = folding instanceof Promise ? await folding : folding;
        if (folded.from === null) slots = null;
        for (let k = 0; k < folded.applied.length; k += 1) {
          const event = folded.applied[k]!;
          applied.push(event);
          if (slots && folded.from !== null) slots[stream.indexes[folded.from + k]!] = event;
        }
        if (folded.row && folded.row !== before) {
          changed.set(streamId, folded.row);
          changes.push({ category: projection.category, before, after: folded.row });
        }
        if (folded.failure) {
          failures.set(streamId, folded.failure);
          await this.markStuck(tx, folded.failure);
        }
      }
      changedBy.set(projection, changed);
    }
    await this.save(tx, changedBy, mayHoldBack);
    if (applied.length > 0) {
      inPositionOrder(applied, slots);
      for (const projection of this.projections.appliedEvents) await projection.apply(tx, this.schema, applied, changes, this.options);
    }
    return failures;
  }

  /**
   * Saves the rows a batch changed, projection by projection. An exclusive projector holds
   * back the rows of deferrable projections while a batch changes no other row (see
   * RowProjection.deferrable) and saves them with the next batch that does, or on flush: a
   * stock item moved by every batch of a rebuild is then written a few times, not once a batch.
   */
  private async save(
    tx: DatabaseTransactionConnection,
    changedBy: ReadonlyMap<RowProjection<ProjectedRow>, ReadonlyMap<string, ProjectedRow>>,
    mayHoldBack: boolean,
  ): Promise<void> {
    const remembered = this.remembered;
    // By the stream ids the batch grouped them by: a rebuild changes thousands of rows a batch.
    if (remembered) for (const rows of changedBy.values()) for (const [streamId, row] of rows) remembered.set(streamId, row);
    const holdBack =
      mayHoldBack &&
      remembered !== null &&
      remembered.size <= REMEMBERED_ROWS && // past it, this batch saves everything and stops remembering
      [...changedBy].every(([projection, rows]) => rows.size === 0 || projection.deferrable === true);
    if (holdBack) {
      for (const [projection, rows] of changedBy) {
        const held = this.held.get(projection) ?? new Map<string, ProjectedRow>();
        for (const [streamId, row] of rows) held.set(streamId, row);
        this.held.set(projection, held);
      }
      return;
    }
    for (const projection of this.projections.rows) {
      const held = this.held.get(projection);
      const changed = changedBy.get(projection);
      let rows: readonly ProjectedRow[] = changed ? [...changed.values()] : [];
      if (held) {
        if (changed) for (const [streamId, row] of changed) held.set(streamId, row);
        rows = [...held.values()];
      }
      if (rows.length > 0) await projection.save(tx, this.schema, rows, this.options);
    }
    this.held.clear();
    // Past the bound, read rows back as a shared projector does; none is held back then.
    if (remembered && remembered.size > REMEMBERED_ROWS) this.remembered = null;
  }

  /** Saves the rows an exclusive projector holds back; a rebuild calls it once it has read everything. */
  async flush(): Promise<void> {
    this.assertUsable();
    if (this.held.size === 0) return;
    await this.pool.transaction(async (tx) => {
      try {
        await this.save(tx, new Map(), false);
      } catch (error) {
        this.failed = true;
        throw error;
      }
    });
  }

  private assertUsable(): void {
    if (this.failed) throw new Error('an exclusive projector that failed cannot go on: the rows it held back are lost (rebuild again)');
  }

  /** The stored rows of these streams, decoded, by stream id. */
  private async load(tx: DatabaseTransactionConnection, projection: RowProjection<ProjectedRow>, streamIds: readonly string[]): Promise<ReadonlyMap<string, ProjectedRow>> {
    // Every row it wrote, as it wrote them: asked only for these streams' rows (and not
    // changed until the batch saves), it answers what a copy of those would, without the copy.
    const remembered = this.remembered;
    if (remembered) return remembered;
    const select = projection.select(this.schema, streamIds);
    const stored = projection.table === undefined ? await tx.any(select) : await readRows(tx, sql.identifier([this.schema, projection.table]), select);
    return new Map(
      stored.map((raw) => {
        const row = projection.rows.decode(raw);
        return [projection.streamOf(row), row];
      }),
    );
  }

  private async markStuck(tx: DatabaseTransactionConnection, failure: ProjectionFailed): Promise<void> {
    const { event } = failure;
    this.stuck?.add(event.streamId);
    const reason = failure.cause instanceof Error ? failure.cause.message : failure.message;
    await tx.query(sql.unsafe`
      insert into ${sql.identifier([this.schema, 'stuck_streams'])} as t (stream_id, event_id, position, type, reason)
      values (${event.streamId}, ${event.id}, ${event.position.toString()}::bigint, ${event.type}, ${reason})
      on conflict (stream_id) do update
        set event_id = excluded.event_id, position = excluded.position, type = excluded.type, reason = excluded.reason, attempts = t.attempts + 1`);
    this.onStuck(failure);
  }

  /** Seeds a progress row per partition, so that the watermark waits for all of them. */
  async registerPartitions(count: number): Promise<void> {
    const partitions = Array.from({ length: count }, (_, partition) => partition);
    await this.pool.query(sql.unsafe`
      insert into ${sql.identifier([this.schema, 'progress'])} (partition, through)
      select unnest(${sql.array(partitions, 'int4')}), 0 on conflict do nothing`);
  }

  /**
   * Serializes batches that carry events of the same streams: during a rebalance the old
   * and the new owner of a partition may apply the same events at once, and each would
   * fold them over the row it read, counting the movements twice. With the lock, the
   * second loads the row after the first committed and finds them repeats. Taken in one
   * order (by hash) in one statement, so two batches never wait for each other in a cycle.
   */
  private async lockStreams(tx: DatabaseTransactionConnection, streamIds: readonly string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await tx.query(sql.unsafe`
      select pg_advisory_xact_lock(h) from (
        select distinct hashtext(${`stockroom.stream:${this.schema}:`} || s) as h from unnest(${sql.array([...streamIds], 'text')}) s order by h
      ) locks`);
  }

  /**
   * The row after the events new to it, and those events (what the batch really applied);
   * at an event it cannot read, the row as it stood before it and the failure.
   */
  private fold(
    projection: RowProjection<ProjectedRow>,
    start: ProjectedRow | null,
    streamId: string,
    delivered: readonly RecordedEvent[],
  ): Folded | Promise<Folded> {
    const after = start?.revision ?? -1;
    // Usually the batch holds the stream's next revisions in order: folded where they lie
    // (no copy, no sort), and `from` says where the applied ones begin.
    let from = 0;
    while (from < delivered.length && delivered[from]!.revision <= after) from += 1;
    let inOrder = true;
    for (let index = from; index < delivered.length; index += 1) {
      if (delivered[index]!.revision !== after + 1 + index - from) {
        inOrder = false;
        break;
      }
    }
    if (inOrder) return this.foldFrom(projection, start, delivered, from, from);
    const events = delivered.filter((event) => event.revision > after).sort((a, b) => a.revision - b.revision);
    const last = events.at(-1);
    if (!last) return { row: start, applied: [], from: null };
    // Contiguous from the row's revision? If not, the missing events come from the store.
    if (events.some((event, index) => event.revision !== after + 1 + index)) {
      return this.store
        .readStream(streamId, { fromRevision: after + 1, maxCount: last.revision - after })
        .then((read) => this.foldFrom(projection, start, read, 0, null));
    }
    return this.foldFrom(projection, start, events, 0, null);
  }

  private foldFrom(projection: RowProjection<ProjectedRow>, start: ProjectedRow | null, events: readonly RecordedEvent[], first: number, from: number | null): Folded {
    const applied: AppliedEvent[] = [];
    let row = start;
    for (let index = first; index < events.length; index += 1) {
      const recorded = events[index]!;
      let event: StockroomEvent;
      try {
        event = readForProjection(recorded);
      } catch (error) {
        if (!(error instanceof ProjectionFailed)) throw error;
        return { row, applied, failure: error, from };
      }
      row = projection.evolve(row, event, recorded);
      applied.push({ recorded, event, row });
    }
    return { row, applied, from };
  }
}

/** A stream's events in a batch, and the index of each in the batch. */
interface StreamEvents {
  events: RecordedEvent[];
  indexes: number[];
}

/**
 * The row after the events new to it, and those events (what the batch really applied);
 * at an event it cannot read, the row as it stood before it and the failure. `from`: the
 * index, among the stream's delivered events, of the first applied one (the others follow
 * it there in order); null when they are not the delivered ones in place (a gap filled
 * from the store, a batch out of order).
 */
interface Folded {
  row: ProjectedRow | null;
  applied: AppliedEvent[];
  failure?: ProjectionFailed;
  from: number | null;
}

/**
 * Puts the applied events in position order, in place. They come stream by stream; a batch
 * delivers its events in position order, so each was put in the slot of its place in the
 * batch (one pass, rather than a sort of bigints over every event of a rebuild's batch).
 * Without slots (an event read from the store to fill a gap is not among the batch's), sorted.
 */
function inPositionOrder(applied: AppliedEvent[], slots: readonly (AppliedEvent | undefined)[] | null): void {
  if (slots) {
    const ordered: AppliedEvent[] = [];
    for (const event of slots) if (event !== undefined) ordered.push(event);
    if (ordered.length === applied.length) {
      for (let index = 0; index < ordered.length; index += 1) applied[index] = ordered[index]!;
      return;
    }
  }
  applied.sort((a, b) => (a.recorded.position < b.recorded.position ? -1 : a.recorded.position > b.recorded.position ? 1 : 0));
}

const isInPositionOrder = (events: readonly RecordedEvent[]): boolean => events.every((event, index) => index === 0 || events[index - 1]!.position < event.position);
