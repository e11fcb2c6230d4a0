import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stepLevel } from '../../../src/projections/mailer/crossings.js';
import type { StockLevel } from '../../../src/projections/stock-level.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import type { StockItemEvent } from '../../../src/shared/events/index.js';

const test = suite('low-stock crossings');

const storeId = '01900000-0000-7000-8000-0000000000b1';
const skuId = '01900000-0000-7000-8000-0000000000c1';
const streamId = `stockitem-${storeId}_${skuId}`;

const added = (quantity: number, lowStockThreshold = 3): StockItemEvent => ({
  type: 'StockItemAdded',
  data: { storeId, skuId, quantity, lowStockThreshold },
});
const sold = (delta: number, quantityAfter: number): StockItemEvent => ({
  type: 'StockAdjusted',
  data: { delta: -delta, reason: 'sold', note: null, quantityAfter },
});
const received = (delta: number, quantityAfter: number): StockItemEvent => ({
  type: 'StockAdjusted',
  data: { delta, reason: 'received', note: null, quantityAfter },
});
const counted = (previousQuantity: number, countedQuantity: number): StockItemEvent => ({
  type: 'StockCounted',
  data: { countedQuantity, previousQuantity, delta: countedQuantity - previousQuantity, note: null },
});
const threshold = (previous: number, lowStockThreshold: number): StockItemEvent => ({
  type: 'LowStockThresholdChanged',
  data: { lowStockThreshold, previous },
});
const removed = (quantityAtRemoval: number): StockItemEvent => ({ type: 'StockItemRemoved', data: { quantityAtRemoval } });

const recordedAt = (event: StockItemEvent, revision: number): RecordedEvent => ({
  id: `01900000-0000-7000-8000-${String(revision).padStart(12, '0')}`,
  streamId,
  type: event.type,
  data: event.data,
  metadata: { actor: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
  revision,
  position: BigInt(revision + 1),
  recordedAt: new Date('2026-01-01T00:00:00.000Z'),
});

/**
 * given these events, when this one: which of the events are crossings. A one-liner per case:
 *   crossings(given([added(10)]).when(sold(8, 2))) → [true]
 */
function given(history: StockItemEvent[]) {
  let level: StockLevel | null = null;
  history.forEach((event, revision) => {
    level = stepLevel(level, event, recordedAt(event, revision)).after;
  });
  return {
    /** Each of these events in turn: was it a crossing? */
    when: (...events: StockItemEvent[]) => {
      const crossings = events.map((event, index) => {
        const step = stepLevel(level, event, recordedAt(event, history.length + index));
        level = step.after;
        return step.crossing;
      });
      return { then: (expected: boolean[]) => assert.equal(crossings, expected) };
    },
  };
}

test('a sale that takes the item to its threshold is a crossing', () => {
  given([added(10)]).when(sold(7, 3)).then([true]);
});

test('a sale that leaves it above the threshold is not', () => {
  given([added(10)]).when(sold(6, 4)).then([false]);
});

test('staying low sends nothing: further sales while low are not crossings', () => {
  given([added(10), sold(8, 2)]).when(sold(1, 1), sold(1, 0)).then([false, false]);
});

test('a restock above the threshold re-arms it: the next fall is a crossing again', () => {
  given([added(10), sold(8, 2)]).when(received(10, 12), sold(10, 2)).then([false, true]);
});

test('a restock that stays at or below the threshold does not re-arm it', () => {
  given([added(10), sold(8, 2)]).when(received(1, 3), sold(1, 2)).then([false, false]);
});

test('an item added at or below its threshold crosses on arrival', () => {
  given([]).when(added(2)).then([true]);
  given([]).when(added(3)).then([true]);
  given([]).when(added(4)).then([false]);
});

test('a count that finds fewer than thought can cross', () => {
  given([added(10)]).when(counted(10, 1)).then([true]);
});

test('raising the threshold over the quantity is a crossing; lowering it under re-arms', () => {
  given([added(5)]).when(threshold(3, 5), threshold(5, 2), sold(3, 2)).then([true, false, true]);
});

test('removal is not a crossing (a removed item is not low), and nothing after it is', () => {
  given([added(10)]).when(removed(10)).then([false]);
  given([added(10), sold(9, 1)]).when(removed(1)).then([false]);
});

test('an event with no item before it (never added) changes nothing', () => {
  const step = stepLevel(null, sold(1, 0), recordedAt(sold(1, 0), 0));
  assert.is(step.after, null);
  assert.is(step.crossing, false);
});

test.run();
