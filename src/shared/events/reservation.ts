import { z } from 'zod/v4';
import { eventSchema, Id } from './define.js';

/**
 * Reservation streams keep a value unique (a username, a SKU code): one stream per value,
 * so two writers racing for it collide on the stream's expected revision.
 */
export const Reserved = z.object({
  /** The value as its owner spelled it; the stream name holds the normalised form. */
  value: z.string().min(1),
  ownerId: Id,
});

export const Released = z.object({ ownerId: Id });

export const ReservationEvent = z.discriminatedUnion('type', [
  eventSchema('Reserved', Reserved),
  eventSchema('Released', Released),
]);
export type ReservationEvent = z.infer<typeof ReservationEvent>;
