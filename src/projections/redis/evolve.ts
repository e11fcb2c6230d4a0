import type { RecordedEvent } from '../../shared/event-store/port.js';
import { parseEvent, type StockroomEvent, UnreadableEvent } from '../../shared/events/index.js';
import { ProjectionFailed } from '../postgres/projector.js';
import type { RedisItemRow } from '../../shared/hot-model/keys.js';
import { evolveStockLevel } from '../stock-level.js';

/** The row after one event: the rule of stock-level.ts, as the PostgreSQL projection. */
export const evolveItem = (row: RedisItemRow | null, event: StockroomEvent, recorded: RecordedEvent): RedisItemRow | null =>
  evolveStockLevel(row, event, recorded, {});

/** Folds recorded events onto a row; an event this release cannot read stops the projector there. */
export function foldItem(start: RedisItemRow | null, events: readonly RecordedEvent[]): RedisItemRow | null {
  let row = start;
  for (const recorded of events) {
    let event: StockroomEvent;
    try {
      event = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
    } catch (error) {
      if (error instanceof UnreadableEvent) throw new ProjectionFailed(recorded, error);
      throw error;
    }
    row = evolveItem(row, event, recorded);
  }
  return row;
}
