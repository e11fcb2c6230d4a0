import { z } from 'zod/v4';
import { Count, Id } from '../../shared/events/define.js';

export interface KnownStockItem {
  storeId: string;
  skuId: string;
  quantity: number;
  lowStockThreshold: number;
}

export type PresentStockItem = KnownStockItem & { status: 'present' };
export type RemovedStockItem = KnownStockItem & { status: 'removed' };

/**
 * Only what decisions need. A stock item's stream grows for years, so this state is what
 * gets cached by revision or snapshotted: plain data, JSON as it is.
 */
export type StockItemState = { status: 'absent' } | PresentStockItem | RemovedStockItem;

export const initialState = (): StockItemState => ({ status: 'absent' });

const known = { storeId: Id, skuId: Id, quantity: Count, lowStockThreshold: Count };

/** A snapshot's state read back (snapshots are data that comes in: parsed like the rest). */
export const StockItemStateSchema: z.ZodType<StockItemState> = z.discriminatedUnion('status', [
  z.object({ status: z.literal('absent') }),
  z.object({ status: z.literal('present'), ...known }),
  z.object({ status: z.literal('removed'), ...known }),
]);

/**
 * Bump when the fold changes where the snapshot fingerprint cannot see it (a helper evolve
 * calls, a constant from another module): snapshots taken before are then ignored.
 */
export const STOCK_ITEM_STATE_VERSION = 1;
