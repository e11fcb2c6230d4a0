import { z } from 'zod/v4';
import { eventSchema, Id, OptionalText } from './define.js';

export const Role = z.enum(['manager', 'staff', 'auditor']);
export type Role = z.infer<typeof Role>;

export const UserRegistered = z.object({
  userId: Id,
  username: z.string().min(1),
  passwordHash: z.string().min(1),
  role: Role,
  displayName: OptionalText,
  email: OptionalText,
  storeIds: z.array(Id),
});

/**
 * Only the fields that changed; null clears one. `lowStockEmails` came later as one more
 * optional field: absent means unchanged, so every event written before it still reads
 * as it did, and no schema version bump or upcaster is needed.
 */
export const UserProfileUpdated = z.object({
  displayName: OptionalText.optional(),
  email: OptionalText.optional(),
  lowStockEmails: z.boolean().optional(),
});

export const UserPasswordChanged = z.object({ passwordHash: z.string().min(1) });

export const UserRoleChanged = z.object({ role: Role });

/** The full new list, not a difference: replaying it needs no earlier state. */
export const UserStoresAssigned = z.object({ storeIds: z.array(Id) });

export const UserDeleted = z.object({});

export const UserEvent = z.discriminatedUnion('type', [
  eventSchema('UserRegistered', UserRegistered),
  eventSchema('UserProfileUpdated', UserProfileUpdated),
  eventSchema('UserPasswordChanged', UserPasswordChanged),
  eventSchema('UserRoleChanged', UserRoleChanged),
  eventSchema('UserStoresAssigned', UserStoresAssigned),
  eventSchema('UserDeleted', UserDeleted),
]);
export type UserEvent = z.infer<typeof UserEvent>;

/**
 * Fields that never leave the event store: the forwarder blanks them on the bus. No read
 * model needs a password hash, and a topic is read by more hands than the database.
 */
export const SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  UserRegistered: ['passwordHash'],
  UserPasswordChanged: ['passwordHash'],
};
export const REDACTED = '[redacted]';
