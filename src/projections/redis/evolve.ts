import type { RecordedEvent } from '../../shared/event-store/port.js';
import type { StockroomEvent } from '../../shared/events/index.js';
import { readForProjection } from '../postgres/projector.js';
import type { RedisItemRow } from '../../shared/hot-model/keys.js';
import { evolveStockLevel } from '../stock-level.js';

/** The row after one event: the rule of stock-level.ts, as the PostgreSQL projection. */
export const evolveItem = (row: RedisItemRow | null, event: StockroomEvent, recorded: RecordedEvent): RedisItemRow | null =>
  evolveStockLevel(row, event, recorded, {});

/** Folds recorded events onto a row; an event this release cannot read stops the projector there. */
export const foldItem = (start: RedisItemRow | null, events: readonly RecordedEvent[]): RedisItemRow | null =>
  events.reduce((row, recorded) => evolveItem(row, readForProjection(recorded), recorded), start);
