import type { ReadModelProjections } from './projection.js';
import { catalogTotalsProjection } from './projections/catalog-totals.js';
import { movementsProjection } from './projections/movements.js';
import { skuProjection } from './projections/skus.js';
import { stockProjection } from './projections/stock.js';
import { stockLedgerProjection } from './projections/stock-ledger.js';
import { storeProjection } from './projections/stores.js';
import { storeTotalsProjection } from './projections/store-totals.js';
import { userProjection } from './projections/users.js';

/**
 * Every projection of the PostgreSQL read model, for the composition roots to register
 * (the background roles, the rebuild, replay and stuck-stream commands). The projections
 * of the applied events run in this order, after all the row projections of a batch.
 */
export const readModelProjections: ReadModelProjections = {
  rows: [userProjection, storeProjection, skuProjection, stockProjection],
  appliedEvents: [movementsProjection, storeTotalsProjection, stockLedgerProjection, catalogTotalsProjection],
};
