import type { Role } from '../../shared/events/user.js';

/**
 * Every command names the user it is for, so that a refusal can say which one.
 * Password hashes arrive already hashed: hashing is slow and salted, so not pure.
 */
export interface RegisterUser {
  type: 'RegisterUser';
  userId: string;
  username: string;
  passwordHash: string;
  role: Role;
  displayName?: string | null;
  email?: string | null;
  storeIds: readonly string[];
}

/** Left out: unchanged; null: cleared. At least one field must be given. */
export interface UpdateProfile {
  type: 'UpdateProfile';
  userId: string;
  displayName?: string | null;
  email?: string | null;
  /** Whether this user gets the low-stock emails of their stores. */
  lowStockEmails?: boolean;
}

/** The caller has checked the current password before asking. */
export interface ChangePassword {
  type: 'ChangePassword';
  userId: string;
  passwordHash: string;
}

export interface ChangeRole {
  type: 'ChangeRole';
  userId: string;
  role: Role;
}

/** Replaces the whole list of stores a staff member works in. */
export interface AssignStores {
  type: 'AssignStores';
  userId: string;
  storeIds: readonly string[];
}

export interface DeleteUser {
  type: 'DeleteUser';
  userId: string;
}

export type UserCommand = RegisterUser | UpdateProfile | ChangePassword | ChangeRole | AssignStores | DeleteUser;
