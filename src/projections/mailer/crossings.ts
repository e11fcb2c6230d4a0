import type { RecordedEvent } from '../../shared/event-store/port.js';
import type { StockroomEvent } from '../../shared/events/index.js';
import { isLow } from '../../shared/hot-model/keys.js';
import { evolveStockLevel, type StockLevel } from '../stock-level.js';

/** One event applied to the mailer's view of a stock item. */
export interface LevelStep {
  before: StockLevel | null;
  after: StockLevel | null;
  /** The event made the item low, and it was not low before: the one case that mails. */
  crossing: boolean;
}

/** Low as everywhere in Stockroom; an item that does not exist (yet) or is removed is not. */
export const isLowLevel = (level: StockLevel | null): boolean => level !== null && isLow(level);

/**
 * Steps a stock level by one event with the rule every read model follows (evolveStockLevel).
 * Staying low is no crossing; going above the threshold (a restock, a higher count, a lower
 * threshold) or removal re-arms the item, so that the next fall is one again. An item added
 * at or below its threshold crosses on arrival: nobody has been told about it yet.
 */
export function stepLevel(before: StockLevel | null, event: StockroomEvent, recorded: RecordedEvent): LevelStep {
  const after = evolveStockLevel<StockLevel>(before, event, recorded, {});
  return { before, after, crossing: !isLowLevel(before) && isLowLevel(after) };
}
