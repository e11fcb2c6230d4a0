import { type DatabaseTransactionConnection, type QuerySqlToken, sql } from 'slonik';
import type { RecordedEvent } from '../../shared/event-store/port.js';
import type { StockroomEvent } from '../../shared/events/index.js';
import type { RowCodec } from './row-codec.js';

/** Every read-model row remembers the stream revision and global position it reflects. */
export interface ProjectedRow {
  revision: number;
  position: bigint;
}

/**
 * One read model kept from the events of one stream category, as Marten separates them:
 * the projection declares its rows (how they are stored, which query reads those of some
 * streams) and says how each event changes its row and how rows are saved; the machinery
 * (loading and decoding, batching, repeats, gap filling, progress, rebuild) is written
 * once in projector.ts.
 */
export interface RowProjection<Row extends ProjectedRow> {
  /** The stream category it follows: `stockitem`, `user`, ... */
  category: string;
  /** Its rows as the table stores them; the projector decodes what `select` reads with it. */
  rows: RowCodec<Row>;
  /**
   * The table of its rows, in the read model's schema, when `select` reads its columns as
   * stored and in order (select *): a live batch then reads them in the round trip of its
   * locks (see BatchedWrites.readRows). Without it, the read goes alone.
   */
  table?: string;
  /** The query for the stored rows of these streams (every column the codec names). */
  select(schema: string, streamIds: readonly string[]): QuerySqlToken;
  /** The stream a row reflects. */
  streamOf(row: Row): string;
  /** The row after one event (null: the stream has no row yet). Pure. */
  evolve(row: Row | null, event: StockroomEvent, recorded: RecordedEvent): Row | null;
  /**
   * Whether an exclusive projector (a rebuild) may hold its rows back across batches and
   * save only the last of each stream, at the next batch that changes a row of another
   * projection or at the end. Only for a projection whose table (and what its save keeps
   * beside it) no applied-events projection reads in a batch that changes no other row.
   */
  deferrable?: boolean;
  /** Upserts rows, each only over an older revision of itself. */
  save(tx: DatabaseTransactionConnection, schema: string, rows: readonly Row[], options: ApplyOptions): Promise<void>;
}

/** The usual `select`: every column of a table keyed by the id its streams are named after. */
export const selectById =
  (table: string) =>
  (schema: string, streamIds: readonly string[]): QuerySqlToken =>
    sql.unsafe`select * from ${sql.identifier([schema, table])} where id = any(${sql.array(streamIds.map(idOfStream), 'uuid')})`;

/**
 * The projections of the read model, as the composition root registers them (as Emmett
 * registers projections with its event store): the row projections, then those of the
 * applied events, run in this order after them.
 */
export interface ReadModelProjections {
  rows: readonly RowProjection<ProjectedRow>[];
  appliedEvents: readonly AppliedEventsProjection[];
}

/**
 * How a batch is applied. `exclusive`: the schema is private to this projector (a rebuild
 * or a replay fills a fresh schema nobody reads or writes until it is swapped in), so the
 * advisory locks that order concurrent projectors are not needed.
 */
export interface ApplyOptions {
  exclusive: boolean;
}

/** An event the projector folded into its row: new to the read model, never a repeat. */
export interface AppliedEvent {
  recorded: RecordedEvent;
  event: StockroomEvent;
  /** Its stream's row right after it, as the row projection folded it (null: the stream has no row). */
  row: ProjectedRow | null;
}

/**
 * A read model kept from the events themselves rather than one row per stream: counters
 * and totals over many streams (the dashboards). Counting is only exactly-once if it sees
 * each event once, so it is not given the batch as delivered (a redelivery repeats it) but
 * the events the row projections actually folded, in position order, in the batch's
 * transaction: a repeat folds nothing, so it counts nothing, and a batch that fails counts
 * nothing either. It runs after every row projection of the batch, so its rows and locks
 * come last in every transaction (one lock order for all, no deadlock).
 */
export interface AppliedEventsProjection {
  name: string;
  /**
   * `changes`: each row the batch changed, as it was before the batch and after it (the
   * same folds as `applied`, so also once only): what a projection keeping sums over rows
   * adds the difference of, instead of summing the rows again.
   */
  apply(tx: DatabaseTransactionConnection, schema: string, applied: readonly AppliedEvent[], changes: readonly RowChange[], options: ApplyOptions): Promise<void>;
}

/** A row a batch changed: its stream's category, the row before the batch (null: none yet) and after it. */
export interface RowChange {
  category: string;
  before: ProjectedRow | null;
  after: ProjectedRow;
}

export const idOfStream = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);
