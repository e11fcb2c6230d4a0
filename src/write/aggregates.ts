import { ManagerRosterEvent, ReservationEvent, SkuEvent, StockItemEvent, StoreEvent, UserEvent } from '../shared/events/index.js';
import { aggregate } from './aggregate.js';
import { managerRosterDecider } from './manager-roster/decider.js';
import { reservationDecider } from './reservation/decider.js';
import { skuDecider } from './sku/decider.js';
import { stockItemDecider } from './stock-item/decider.js';
import { storeDecider } from './store/decider.js';
import { userDecider } from './user/decider.js';

export const users = aggregate('user', userDecider, UserEvent);
export const stores = aggregate('store', storeDecider, StoreEvent);
export const skus = aggregate('SKU', skuDecider, SkuEvent);
export const stockItems = aggregate('stock item', stockItemDecider, StockItemEvent);
export const reservations = aggregate('reservation', reservationDecider, ReservationEvent);
export const managerRoster = aggregate('manager roster', managerRosterDecider, ManagerRosterEvent);
