import { AdjustmentReason } from './events/stock-item.js';

/**
 * Why units moved, as the dashboards count them: the adjustment reasons, `count` for the
 * difference a count found, `added` for the quantity an item starts with and `removed` for
 * what it held when removed, so that units in minus units out is always the change of the
 * stock. Shared by the projection that counts them and the report that shows them.
 */
export const MOVEMENT_REASONS = [...AdjustmentReason.options, 'count', 'added', 'removed'] as const;
export type MovementReason = (typeof MOVEMENT_REASONS)[number];
