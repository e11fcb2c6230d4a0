import type { Role } from '../events/user.js';
import { Forbidden } from '../errors.js';

/** The authenticated caller, as every route sees it. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  storeIds: readonly string[];
  /** The token's id and expiry, for logout. */
  tokenId: string;
  tokenExpiresAt: Date;
}

/** What authentication needs to know of a user, read fresh on every request. */
export interface UserCredentials {
  userId: string;
  username: string;
  role: Role;
  storeIds: readonly string[];
  active: boolean;
  credentialsVersion: number;
}

export interface CredentialsSource {
  (userId: string): Promise<UserCredentials | null>;
  /**
   * What the source would answer now, when it knows without a read (a cache fresh enough);
   * undefined: call the source. Lets a request whose user is known be admitted without a promise.
   */
  fresh?(userId: string): UserCredentials | null | undefined;
}

export const requireRole = (principal: Principal, ...roles: Role[]): void => {
  if (!roles.includes(principal.role)) throw new Forbidden(`This needs the role ${roles.join(' or ')}; you are ${principal.role}.`);
};

/** Managers change stock everywhere; staff only in the stores they are assigned to. */
export const requireStockAccess = (principal: Principal, storeId: string): void => {
  if (principal.role === 'manager') return;
  if (principal.role === 'staff' && principal.storeIds.includes(storeId)) return;
  throw new Forbidden(
    principal.role === 'staff'
      ? `You are not assigned to store ${storeId}.`
      : `The role ${principal.role} cannot change stock.`,
  );
};

/** Auditors and managers read everything; staff read their own stores. */
export const requireStoreReadAccess = (principal: Principal, storeId: string): void => {
  if (principal.role !== 'staff' || principal.storeIds.includes(storeId)) return;
  throw new Forbidden(`You are not assigned to store ${storeId}.`);
};
