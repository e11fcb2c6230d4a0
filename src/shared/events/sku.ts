import { z } from 'zod/v4';
import { Count, eventSchema, Id, OptionalText } from './define.js';

/**
 * A price is a decimal string in the store's currency ("12.50"), never a float: it must
 * survive JSON and the read models' NUMERIC columns without rounding.
 */
export const PRICE_PATTERN = /^\d{1,12}(\.\d{1,4})?$/;
export const Price = z.string().regex(PRICE_PATTERN);

export const SkuCreated = z.object({
  skuId: Id,
  code: z.string().min(1),
  name: z.string().min(1),
  category: OptionalText,
  unit: z.string().min(1),
  price: Price.nullable(),
  lowStockThreshold: Count,
});

/** Only the fields that changed (the code never changes: it is reserved for good). */
export const SkuUpdated = z.object({
  name: z.string().min(1).optional(),
  category: OptionalText.optional(),
  unit: z.string().min(1).optional(),
  price: Price.nullable().optional(),
  lowStockThreshold: Count.optional(),
});

export const SkuDeleted = z.object({});

export const SkuEvent = z.discriminatedUnion('type', [
  eventSchema('SkuCreated', SkuCreated),
  eventSchema('SkuUpdated', SkuUpdated),
  eventSchema('SkuDeleted', SkuDeleted),
]);
export type SkuEvent = z.infer<typeof SkuEvent>;
