import type { EventToAppend } from '../../src/shared/event-store/port.js';
import { newId } from '../../src/shared/ids.js';

/**
 * The event every appender writes: a stock adjustment as the write side records it,
 * with the same id, data and metadata whatever the store, so that only the store differs.
 * Ids are UUID v7 like the application's (newId): they keep es_events_event_id's inserts
 * at the right end of the index, as in production.
 */
export interface StockAdjustment {
  id: string;
  type: 'StockAdjusted';
  data: { delta: number; reason: 'received'; note: string | null; quantityAfter: number };
  metadata: {
    actor: string | null;
    correlationId: string;
    causationId: string | null;
    at: string;
    schemaVersion: number;
  };
}

export const stockAdjustment = (quantityAfter: number): StockAdjustment & EventToAppend => ({
  id: newId(),
  type: 'StockAdjusted',
  data: { delta: 1, reason: 'received', note: null, quantityAfter },
  metadata: {
    actor: '6f1d2f64-2f0f-4f8e-9f59-3c1b6a0c2d11',
    correlationId: newId(),
    causationId: null,
    at: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** Stream names shaped like the real ones: stockitem-<storeId>_<skuId>. */
export const stockItemStreams = (count: number): string[] => {
  const storeId = newId();
  return Array.from({ length: count }, () => `stockitem-${storeId}_${newId()}`);
};
