import { z } from 'zod/v4';
import { Role } from '../events/user.js';

/** A user as the API shows it, in lists and alone: never the password hash. */
export const userView = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  role: Role,
  storeIds: z.array(z.uuid()),
  revision: z.int(),
});

/**
 * A user as read fresh from its stream (the write API's answers, the login): with its
 * settings, which the read model's list leaves out.
 */
export const userWithSettingsView = userView.extend({
  /** Whether the user gets low-stock emails; PATCH /api/auth/me turns it off. */
  lowStockEmails: z.boolean(),
});
