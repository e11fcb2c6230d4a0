import type { DatabaseTransactionConnection } from 'slonik';
import type { RecordedEvent } from '../../shared/event-store/port.js';
import type { StockroomEvent } from '../../shared/events/index.js';

/** Every read-model row remembers the stream revision and global position it reflects. */
export interface ProjectedRow {
  revision: number;
  position: bigint;
}

/**
 * One read model kept from the events of one stream category, as Marten separates them:
 * the projection says how each event changes its row and how rows are stored; the
 * machinery (batching, repeats, gap filling, progress, rebuild) is written once in
 * projector.ts.
 */
export interface RowProjection<Row extends ProjectedRow> {
  /** The stream category it follows: `stockitem`, `user`, ... */
  category: string;
  /** The rows of these streams as stored now, by stream id. */
  load(tx: DatabaseTransactionConnection, schema: string, streamIds: readonly string[]): Promise<Map<string, Row>>;
  /** The row after one event (null: the stream has no row yet). Pure. */
  evolve(row: Row | null, event: StockroomEvent, recorded: RecordedEvent): Row | null;
  /** Upserts rows, each only over an older revision of itself. */
  save(tx: DatabaseTransactionConnection, schema: string, rows: readonly Row[]): Promise<void>;
}

/** An event the projector folded into its row: new to the read model, never a repeat. */
export interface AppliedEvent {
  recorded: RecordedEvent;
  event: StockroomEvent;
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
  apply(tx: DatabaseTransactionConnection, schema: string, applied: readonly AppliedEvent[]): Promise<void>;
}

export const idOfStream = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);
