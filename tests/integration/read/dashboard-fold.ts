import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { parseEvent } from '../../../src/shared/events/index.js';

/**
 * The inventory dashboard computed the slow and obvious way, by folding every event in the
 * test: what the projector's read models and the report's queries must agree with.
 * Written apart from src on purpose (only the event catalogue is shared).
 */

export interface InOut {
  unitsIn: number;
  unitsOut: number;
}
export interface Mover extends InOut {
  skuId: string;
  code: string;
  name: string;
}
export interface DashboardFigures {
  stockValue: string;
  perStore: { storeId: string; name: string; items: number; units: number; stockValue: string; lowStockItems: number; outOfStockItems: number }[];
  movements: ({ day: string; byReason: Record<string, InOut> } & InOut)[];
  topMovers: { last24h: Mover[]; last7d: Mover[] };
}

const REASONS = ['received', 'sold', 'damaged', 'returned', 'correction', 'count', 'added', 'removed'];
const SCALE = 10_000n;

/** "4.125" → 41250 (ten-thousandths: prices have at most four decimals). */
const toUnits = (price: string): bigint => {
  const [whole = '0', fraction = ''] = price.split('.');
  return BigInt(whole) * SCALE + BigInt(fraction.padEnd(4, '0'));
};
const money = (units: bigint): string => {
  const fraction = (units % SCALE).toString().padStart(4, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${units / SCALE}.${fraction}`;
};

interface Item {
  storeId: string;
  skuId: string;
  quantity: number;
  threshold: number;
  removed: boolean;
}
interface Move extends InOut {
  at: Date;
  skuId: string;
  reason: string;
}

/** The dashboard as of `now` (the report's generatedAt), from every event of the store. */
export function foldDashboard(events: readonly RecordedEvent[], now: Date): DashboardFigures {
  const stores = new Map<string, string>();
  const skus = new Map<string, { code: string; name: string; price: string | null }>();
  const items = new Map<string, Item>();
  const moves: Move[] = [];
  const move = (recorded: RecordedEvent, skuId: string, reason: string, delta: number) => {
    if (delta !== 0) moves.push({ at: recorded.recordedAt, skuId, reason, unitsIn: Math.max(delta, 0), unitsOut: Math.max(-delta, 0) });
  };
  for (const recorded of events) {
    if (recorded.streamId.startsWith('username-') || recorded.streamId.startsWith('skucode-')) continue;
    const event = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
    const item = items.get(recorded.streamId);
    switch (event.type) {
      case 'StoreOpened':
        stores.set(event.data.storeId, event.data.name);
        break;
      case 'StoreRenamed':
        stores.set(recorded.streamId.slice('store-'.length), event.data.name);
        break;
      case 'SkuCreated':
        skus.set(event.data.skuId, { code: event.data.code, name: event.data.name, price: event.data.price });
        break;
      case 'SkuUpdated': {
        const sku = skus.get(recorded.streamId.slice('sku-'.length))!;
        if (event.data.name !== undefined) sku.name = event.data.name;
        if (event.data.price !== undefined) sku.price = event.data.price;
        break;
      }
      case 'StockItemAdded':
        items.set(recorded.streamId, { storeId: event.data.storeId, skuId: event.data.skuId, quantity: event.data.quantity, threshold: event.data.lowStockThreshold, removed: false });
        move(recorded, event.data.skuId, 'added', event.data.quantity);
        break;
      case 'StockAdjusted':
        item!.quantity += event.data.delta;
        move(recorded, item!.skuId, event.data.reason, event.data.delta);
        break;
      case 'StockCounted':
        move(recorded, item!.skuId, 'count', event.data.countedQuantity - item!.quantity);
        item!.quantity = event.data.countedQuantity;
        break;
      case 'LowStockThresholdChanged':
        item!.threshold = event.data.lowStockThreshold;
        break;
      case 'StockItemRemoved':
        move(recorded, item!.skuId, 'removed', -item!.quantity);
        item!.quantity = 0;
        item!.removed = true;
        break;
      default:
        break;
    }
  }

  const live = [...items.values()].filter((item) => !item.removed);
  const valueOf = (list: Item[]) => list.reduce((sum, item) => sum + BigInt(item.quantity) * toUnits(skus.get(item.skuId)?.price ?? '0'), 0n);
  const perStore = [...stores.entries()]
    .map(([storeId, name]) => {
      const held = live.filter((item) => item.storeId === storeId);
      return {
        storeId,
        name,
        items: held.length,
        units: held.reduce((sum, item) => sum + item.quantity, 0),
        stockValue: money(valueOf(held)),
        lowStockItems: held.filter((item) => item.quantity <= item.threshold).length,
        outOfStockItems: held.filter((item) => item.quantity === 0).length,
      };
    })
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a.storeId < b.storeId ? -1 : 1));

  const today = Date.parse(now.toISOString().slice(0, 10));
  const movements = Array.from({ length: 30 }, (_, index) => {
    const day = new Date(today - (29 - index) * 86_400_000).toISOString().slice(0, 10);
    const byReason = Object.fromEntries(REASONS.map((reason) => [reason, { unitsIn: 0, unitsOut: 0 }]));
    let unitsIn = 0;
    let unitsOut = 0;
    for (const m of moves.filter((m) => m.at.toISOString().slice(0, 10) === day)) {
      byReason[m.reason]!.unitsIn += m.unitsIn;
      byReason[m.reason]!.unitsOut += m.unitsOut;
      unitsIn += m.unitsIn;
      unitsOut += m.unitsOut;
    }
    return { day, unitsIn, unitsOut, byReason };
  });

  const hourStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const movers = (hours: number): Mover[] => {
    const since = hourStart - (hours - 1) * 3_600_000;
    const bySku = new Map<string, InOut>();
    for (const m of moves.filter((m) => m.at.getTime() >= since)) {
      const sum = bySku.get(m.skuId) ?? { unitsIn: 0, unitsOut: 0 };
      sum.unitsIn += m.unitsIn;
      sum.unitsOut += m.unitsOut;
      bySku.set(m.skuId, sum);
    }
    return [...bySku.entries()]
      .map(([skuId, sum]) => ({ skuId, code: skus.get(skuId)!.code, name: skus.get(skuId)!.name, unitsOut: sum.unitsOut, unitsIn: sum.unitsIn }))
      .sort((a, b) => b.unitsOut - a.unitsOut || b.unitsIn - a.unitsIn || (a.skuId < b.skuId ? -1 : 1))
      .slice(0, 10);
  };

  return { stockValue: money(valueOf(live)), perStore, movements, topMovers: { last24h: movers(24), last7d: movers(7 * 24) } };
}
