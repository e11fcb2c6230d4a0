import { z } from 'zod/v4';
import { eventSchema, Id, OptionalText } from './define.js';

export const StoreOpened = z.object({
  storeId: Id,
  name: z.string().min(1),
  code: OptionalText,
  address: OptionalText,
});

export const StoreRenamed = z.object({ name: z.string().min(1) });

/** Only the fields that changed; null clears one. */
export const StoreDetailsChanged = z.object({
  code: OptionalText.optional(),
  address: OptionalText.optional(),
});

export const StoreClosed = z.object({});

export const StoreEvent = z.discriminatedUnion('type', [
  eventSchema('StoreOpened', StoreOpened),
  eventSchema('StoreRenamed', StoreRenamed),
  eventSchema('StoreDetailsChanged', StoreDetailsChanged),
  eventSchema('StoreClosed', StoreClosed),
]);
export type StoreEvent = z.infer<typeof StoreEvent>;
