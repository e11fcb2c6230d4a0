import { z } from 'zod/v4';
import type { StockChange } from '../../shared/live/stock-changes.js';

/** The `/ws` protocol of design.md: one JSON object per text frame. */

export const CLOSE = {
  /** The token is missing, invalid, expired or revoked. */
  unauthorized: 4401,
  /** The client does not read what it is sent (RFC 6455: try again later). */
  tooSlow: 1013,
  /** Frames faster than the bound. */
  flood: 1008,
} as const;

const storeIds = z.array(z.uuid('must be store ids (UUIDs)')).min(1, 'must name at least one store').max(1_000);

export const clientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('authenticate'), token: z.string().min(1).max(4_096) }),
  z.object({
    type: z.literal('subscribe'),
    storeIds,
    since: z.string().regex(/^\d{1,19}$/, 'must be a position: a decimal string of digits').optional(),
  }),
  z.object({ type: z.literal('unsubscribe'), storeIds }),
]);
export type ClientFrame = z.infer<typeof clientFrame>;

export const clientFrameTypes: ReadonlySet<string> = new Set(['authenticate', 'subscribe', 'unsubscribe']);

export type ErrorCode = 'invalid-json' | 'unknown-type' | 'invalid-frame' | 'forbidden-store' | 'not-authenticated' | 'already-authenticated' | 'unavailable';

export const errorFrame = (code: ErrorCode, detail: string): string => JSON.stringify({ type: 'error', code, detail });

export const subscribedFrame = (ids: readonly string[], position: bigint): string =>
  JSON.stringify({ type: 'subscribed', storeIds: ids, position: position.toString() });

export const unsubscribedFrame = (ids: readonly string[]): string => JSON.stringify({ type: 'unsubscribed', storeIds: ids });

export const authenticatedFrame = (userId: string, role: string): string => JSON.stringify({ type: 'authenticated', userId, role });

/** One change goes to many sockets: its frame is written once (the notifier hands every socket the same object). */
const frames = new WeakMap<StockChange, string>();

export const stockFrame = (change: StockChange): string => {
  let frame = frames.get(change);
  if (frame === undefined) frames.set(change, (frame = stockFrameText(change)));
  return frame;
};

const stockFrameText = (change: StockChange): string =>
  JSON.stringify({
    type: 'stock',
    storeId: change.storeId,
    skuId: change.skuId,
    quantity: change.quantity,
    lowStockThreshold: change.lowStockThreshold,
    removed: change.removed,
    revision: change.revision,
    position: change.position.toString(),
    event: change.event,
    reason: change.reason,
    actor: change.actor,
    at: change.at.toISOString(),
  });
