import type { RecordedEvent } from '../../shared/event-store/port.js';
import { parseEvent, type StockroomEvent, UnreadableEvent } from '../../shared/events/index.js';
import { ProjectionFailed } from '../postgres/projector.js';
import { itemOfStream, type RedisItemRow } from '../../shared/hot-model/keys.js';

/** The row after one event: the same rules as the PostgreSQL projection of stock (stock.ts). */
export function evolveItem(row: RedisItemRow | null, event: StockroomEvent, recorded: RecordedEvent): RedisItemRow | null {
  const at = { revision: recorded.revision, position: recorded.position };
  switch (event.type) {
    case 'StockItemAdded':
      return { ...itemOfStream(recorded.streamId), quantity: event.data.quantity, lowStockThreshold: event.data.lowStockThreshold, removed: false, ...at };
    case 'StockAdjusted':
      return row && { ...row, quantity: event.data.quantityAfter, ...at };
    case 'StockCounted':
      return row && { ...row, quantity: event.data.countedQuantity, ...at };
    case 'LowStockThresholdChanged':
      return row && { ...row, lowStockThreshold: event.data.lowStockThreshold, ...at };
    case 'StockItemRemoved':
      return row && { ...row, quantity: 0, removed: true, ...at };
    default:
      return row;
  }
}

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
