import type { Role } from '../../shared/events/user.js';

export interface KnownUser {
  userId: string;
  username: string;
  role: Role;
  passwordHash: string;
  displayName: string | null;
  email: string | null;
  storeIds: string[];
  /** On until the user turns it off. */
  lowStockEmails: boolean;
  /**
   * Tokens carry this number; a token with an older one is refused, so changing the
   * password or deleting the user revokes every token issued before.
   */
  credentialsVersion: number;
}

export type ActiveUser = KnownUser & { status: 'active' };
export type DeletedUser = KnownUser & { status: 'deleted' };

/** Plain data only (no Map, Set or Date), so that it can be cached and snapshotted as JSON. */
export type UserState = { status: 'absent' } | ActiveUser | DeletedUser;

export const initialState = (): UserState => ({ status: 'absent' });
