import { randomUUID } from 'node:crypto';
import type { EventToAppend } from '../../src/shared/event-store/port.js';

/**
 * The event every appender writes: a stock adjustment as the write side records it,
 * with the same id, data and metadata whatever the store, so that only the store differs.
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
  id: randomUUID(),
  type: 'StockAdjusted',
  data: { delta: 1, reason: 'received', note: null, quantityAfter },
  metadata: {
    actor: '6f1d2f64-2f0f-4f8e-9f59-3c1b6a0c2d11',
    correlationId: randomUUID(),
    causationId: null,
    at: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** Stream names shaped like the real ones: stockitem-<storeId>_<skuId>. */
export const stockItemStreams = (count: number): string[] => {
  const storeId = randomUUID();
  return Array.from({ length: count }, () => `stockitem-${storeId}_${randomUUID()}`);
};
