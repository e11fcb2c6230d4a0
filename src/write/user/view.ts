import { z } from 'zod/v4';
import { Role } from '../../shared/events/user.js';
import type { Loaded } from '../command-handler.js';
import type { ActiveUser, UserState } from './state.js';

/** A user as the API shows it: never the password hash. */
export const userView = z.object({
  id: z.uuid(),
  username: z.string(),
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  role: Role,
  storeIds: z.array(z.uuid()),
  /** Whether the user gets low-stock emails; PATCH /api/auth/me turns it off. */
  lowStockEmails: z.boolean(),
  revision: z.int(),
});

export const toUserView = (user: ActiveUser, revision: number): z.infer<typeof userView> => ({
  id: user.userId,
  username: user.username,
  displayName: user.displayName,
  email: user.email,
  role: user.role,
  storeIds: [...user.storeIds],
  lowStockEmails: user.lowStockEmails,
  revision,
});

export const isActive = <L extends Pick<Loaded<UserState>, 'state'>>(loaded: L): loaded is L & { state: ActiveUser } => loaded.state.status === 'active';
