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

export const idOfStream = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);
