import { ManagerRosterEvent, ReservationEvent, SkuEvent, StockItemEvent, StoreEvent, UserEvent } from '../shared/events/index.js';
import { aggregate } from './aggregate.js';
import { managerRosterDecider } from './manager-roster/decider.js';
import { reservationDecider } from './reservation/decider.js';
import { skuDecider } from './sku/decider.js';
import { stockItemDecider } from './stock-item/decider.js';
import { STOCK_ITEM_STATE_VERSION, StockItemStateSchema } from './stock-item/state.js';
import { storeDecider } from './store/decider.js';
import { userDecider } from './user/decider.js';

export const users = aggregate('user', userDecider, UserEvent);
export const stores = aggregate('store', storeDecider, StoreEvent);
export const skus = aggregate('SKU', skuDecider, SkuEvent);
// A stock item's stream grows for years (a best-seller: a million events): snapshotted.
export const stockItems = aggregate('stock item', stockItemDecider, StockItemEvent, { state: StockItemStateSchema, stateVersion: STOCK_ITEM_STATE_VERSION });
export const reservations = aggregate('reservation', reservationDecider, ReservationEvent);
export const managerRoster = aggregate('manager roster', managerRosterDecider, ManagerRosterEvent);
