import { z } from 'zod/v4';
import { Count, eventSchema, Id, OptionalText } from './define.js';

export const AdjustmentReason = z.enum(['received', 'sold', 'damaged', 'returned', 'correction']);
export type AdjustmentReason = z.infer<typeof AdjustmentReason>;

export const StockItemAdded = z.object({
  storeId: Id,
  skuId: Id,
  quantity: Count,
  lowStockThreshold: Count,
});

/**
 * quantityAfter lets a reader of one event know the level without folding the stream.
 * `reference` (schema version 2) names the document behind the movement: an order, a
 * delivery note, a count sheet; null when none was given. Written by every release since
 * version 2; events of version 1 are upcast with `reference: null`. Optional here only so
 * that code building events by hand need not name it.
 */
export const StockAdjusted = z.object({
  delta: z.int().refine((delta) => delta !== 0, 'an adjustment moves at least one unit'),
  reason: AdjustmentReason,
  note: OptionalText,
  reference: OptionalText.optional(),
  quantityAfter: Count,
});

/** Recorded even when the count matches: auditors want proof that the shelf was counted. */
export const StockCounted = z.object({
  countedQuantity: Count,
  previousQuantity: Count,
  delta: z.int(),
  note: OptionalText,
});

export const LowStockThresholdChanged = z.object({
  lowStockThreshold: Count,
  previous: Count,
});

export const StockItemRemoved = z.object({ quantityAtRemoval: Count });

export const StockItemEvent = z.discriminatedUnion('type', [
  eventSchema('StockItemAdded', StockItemAdded),
  eventSchema('StockAdjusted', StockAdjusted),
  eventSchema('StockCounted', StockCounted),
  eventSchema('LowStockThresholdChanged', LowStockThresholdChanged),
  eventSchema('StockItemRemoved', StockItemRemoved),
]);
export type StockItemEvent = z.infer<typeof StockItemEvent>;
