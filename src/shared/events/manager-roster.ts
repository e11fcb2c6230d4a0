import { z } from 'zod/v4';
import { eventSchema, Id } from './define.js';

/**
 * The manager roster: one stream (`managers-roster`) naming every manager, so that every
 * change that could leave no manager (a demotion, a deletion) appends to the same stream
 * with its expected revision, and two of them at once cannot both pass.
 */
export const ManagerRosterStarted = z.object({
  /** The managers found in the user streams when the roster was first needed. */
  userIds: z.array(Id),
});
export const ManagerAdded = z.object({ userId: Id });
export const ManagerRemoved = z.object({ userId: Id });

export const ManagerRosterEvent = z.discriminatedUnion('type', [
  eventSchema('ManagerRosterStarted', ManagerRosterStarted),
  eventSchema('ManagerAdded', ManagerAdded),
  eventSchema('ManagerRemoved', ManagerRemoved),
]);
export type ManagerRosterEvent = z.infer<typeof ManagerRosterEvent>;
