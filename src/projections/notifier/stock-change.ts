import type { RecordedEvent } from '../../shared/event-store/port.js';
import type { StockItemEvent, StockroomEvent } from '../../shared/events/index.js';
import { itemOfStream } from '../../shared/hot-model/keys.js';
import type { StockChange } from '../../shared/live/stock-changes.js';
import { evolveStockLevel, type StockLevel } from '../stock-level.js';

const stockItemTypes: ReadonlySet<string> = new Set(['StockItemAdded', 'StockAdjusted', 'StockCounted', 'LowStockThresholdChanged', 'StockItemRemoved']);

export const isStockItemEvent = (event: StockroomEvent): event is StockItemEvent => stockItemTypes.has(event.type);

/** A stock item's event and the level it left. */
export function toStockChange(level: StockLevel, event: StockItemEvent, recorded: RecordedEvent): StockChange {
  return {
    storeId: level.storeId,
    skuId: level.skuId,
    quantity: level.quantity,
    lowStockThreshold: level.lowStockThreshold,
    removed: level.removed,
    revision: recorded.revision,
    position: recorded.position,
    event: event.type,
    reason: event.type === 'StockAdjusted' ? event.data.reason : event.type === 'StockCounted' ? 'count' : null,
    actor: recorded.metadata.actor,
    at: recorded.recordedAt,
  };
}

/**
 * The level a stock item had after the newest of `newestFirst` (its events from some
 * revision backwards), or null when they do not tell it yet and older events are needed.
 *
 * The newest event that carries a quantity gives the quantity, the newest that carries a
 * threshold gives the threshold; an item is removed only if its newest event is the
 * removal (nothing but a new StockItemAdded follows one). So a long stream is read back
 * only as far as its last threshold change, never folded whole.
 */
export function levelFromNewest(streamId: string, newestFirst: readonly { event: StockItemEvent; recorded: RecordedEvent }[]): StockLevel | null {
  const newest = newestFirst[0];
  if (!newest) return null;
  let quantity: number | undefined;
  let threshold: number | undefined;
  for (const { event } of newestFirst) {
    switch (event.type) {
      case 'StockItemAdded':
        quantity ??= event.data.quantity;
        threshold ??= event.data.lowStockThreshold;
        break;
      case 'StockAdjusted':
        quantity ??= event.data.quantityAfter;
        break;
      case 'StockCounted':
        quantity ??= event.data.countedQuantity;
        break;
      case 'LowStockThresholdChanged':
        threshold ??= event.data.lowStockThreshold;
        break;
      case 'StockItemRemoved':
        quantity ??= 0;
        break;
    }
    if (quantity !== undefined && threshold !== undefined) {
      return {
        ...itemOfStream(streamId),
        quantity,
        lowStockThreshold: threshold,
        removed: newest.event.type === 'StockItemRemoved',
        revision: newest.recorded.revision,
        position: newest.recorded.position,
      };
    }
  }
  return null;
}

/** The level after one more event: the rule every read model follows. */
export const nextLevel = (level: StockLevel | null, event: StockItemEvent, recorded: RecordedEvent): StockLevel | null =>
  evolveStockLevel<StockLevel>(level, event, recorded, {});
