/**
 * Stream names. The category is the part before the first dash, as EventStoreDB reads
 * it, so no category may contain a dash (`stockitem`, not `stock-item`).
 */
export const userStream = (userId: string): string => `user-${userId}`;
export const storeStream = (storeId: string): string => `store-${storeId}`;
export const skuStream = (skuId: string): string => `sku-${skuId}`;

/** `_` joins the ids because UUIDs contain dashes but never underscores. */
export const stockItemStream = (storeId: string, skuId: string): string => `stockitem-${storeId}_${skuId}`;

/** Usernames are unique regardless of case: "Alice" and "alice" are one login. */
export const usernameReservationStream = (username: string): string => `username-${username.toLowerCase()}`;

/** The one stream naming every manager (src/write/manager-roster). */
export const MANAGER_ROSTER_STREAM = 'managers-roster';

/** SKU codes are unique regardless of case; printed labels use capitals. */
export const skuCodeReservationStream = (code: string): string => `skucode-${code.toUpperCase()}`;
