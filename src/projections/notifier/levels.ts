import type { EventStore, RecordedEvent } from '../../shared/event-store/port.js';
import type { StockItemEvent } from '../../shared/events/index.js';
import type { StockChange } from '../../shared/live/stock-changes.js';
import { readForProjection } from '../postgres/projector.js';
import type { StockLevel } from '../stock-level.js';
import { isStockItemEvent, levelFromNewest, nextLevel, toStockChange } from './stock-change.js';

/** Where the levels are kept between events: an LRU for the live feed, a Map for one replay. */
export interface LevelMap {
  get(streamId: string): StockLevel | undefined;
  set(streamId: string, level: StockLevel): unknown;
}

const PAGE = 200;

/**
 * Turns stock item events into changes with their full level. Most events carry their
 * quantity, not their threshold (or the other way round), so the level before an event is
 * kept per item; an item not held (or held at another revision) is read back from the
 * event store only as far as it must be (see levelFromNewest).
 */
export class StockLevels {
  constructor(
    private readonly store: EventStore,
    private readonly levels: LevelMap,
  ) {}

  /** The change one event made, or null when it is not a stock item's. Throws when the store cannot be read. */
  async changeOf(recorded: RecordedEvent): Promise<StockChange | null> {
    const event = readForProjection(recorded);
    if (!isStockItemEvent(event)) return null;
    const known = this.levels.get(recorded.streamId);
    const before =
      event.type === 'StockItemAdded' ? null : known && known.revision === recorded.revision - 1 ? known : await this.load(recorded.streamId, recorded.revision - 1);
    const after = nextLevel(before, event, recorded);
    if (!after) return null; // an event on an item with no history: nothing to show
    this.levels.set(recorded.streamId, after);
    return toStockChange(after, event, recorded);
  }

  /** The level after `revision`, read backwards from it. */
  private async load(streamId: string, revision: number): Promise<StockLevel | null> {
    const newestFirst: { event: StockItemEvent; recorded: RecordedEvent }[] = [];
    for (let from = revision; from >= 0; from -= PAGE) {
      const page = await this.store.readStream(streamId, { direction: 'backwards', fromRevision: from, maxCount: PAGE });
      for (const recorded of page) {
        const event = readForProjection(recorded);
        if (isStockItemEvent(event)) newestFirst.push({ event, recorded });
      }
      const level = levelFromNewest(streamId, newestFirst);
      if (level) return level;
      if (page.length < PAGE) break;
    }
    return null;
  }
}
