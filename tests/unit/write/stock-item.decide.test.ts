import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidValue } from '../../../src/shared/domain-errors.js';
import { AlreadyExists, DomainError, NotFound, RuleViolated } from '../../../src/shared/errors.js';
import type { AdjustmentReason } from '../../../src/shared/events/stock-item.js';
import type { AddStockItem, AdjustStock, CountStock, StockItemCommand } from '../../../src/write/stock-item/commands.js';
import {
  InsufficientStock,
  InvalidDelta,
  ItemAlreadyInStore,
  stockItemDecider,
  StoreNotOpen,
  type StockItemEvent,
  type StockItemState,
} from '../../../src/write/stock-item/decider.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('stock item decider');
const item = spec(stockItemDecider);

const storeId = '01900000-0000-7000-8000-0000000000b1';
const skuId = '01900000-0000-7000-8000-0000000000c1';

const add: AddStockItem = {
  type: 'AddStockItem',
  storeId,
  skuId,
  quantity: 10,
  lowStockThreshold: 3,
  storeStatus: 'open',
  skuExists: true,
};
const added: StockItemEvent = { type: 'StockItemAdded', data: { storeId, skuId, quantity: 10, lowStockThreshold: 3 } };
const removed: StockItemEvent = { type: 'StockItemRemoved', data: { quantityAtRemoval: 10 } };

const adjust = (delta: number, reason: AdjustmentReason, note: string | null = null): StockItemCommand => ({
  type: 'AdjustStock',
  storeId,
  skuId,
  delta,
  reason,
  note,
});
const adjusted = (delta: number, reason: AdjustmentReason, quantityAfter: number): StockItemEvent => ({
  type: 'StockAdjusted',
  data: { delta, reason, note: null, reference: null, quantityAfter },
});
const count = (countedQuantity: number, note: string | null = null): StockItemCommand => ({
  type: 'CountStock',
  storeId,
  skuId,
  countedQuantity,
  note,
});
const threshold = (lowStockThreshold: number): StockItemCommand => ({
  type: 'ChangeLowStockThreshold',
  storeId,
  skuId,
  lowStockThreshold,
});
const remove: StockItemCommand = { type: 'RemoveStockItem', storeId, skuId };

// Adding a SKU to a store

test('adds a SKU to an open store', () => {
  item.when(add).then([added]);
});

test('adds a SKU with nothing on the shelf yet', () => {
  item
    .when({ ...add, quantity: 0, lowStockThreshold: 0 })
    .then([{ type: 'StockItemAdded', data: { storeId, skuId, quantity: 0, lowStockThreshold: 0 } }]);
});

test('refuses a store that does not exist', () => {
  const error = item.when({ ...add, storeStatus: 'absent' }).thenThrows(NotFound);
  assert.equal(error.extra, { resource: 'store', id: storeId });
});

test('refuses a store that is closed', () => {
  const error = item.when({ ...add, storeStatus: 'closed' }).thenThrows(StoreNotOpen);
  assert.ok(error instanceof RuleViolated);
  assert.is(error.code, 'store-not-open');
});

test('refuses a SKU that does not exist', () => {
  const error = item.when({ ...add, skuExists: false }).thenThrows(NotFound);
  assert.equal(error.extra, { resource: 'sku', id: skuId });
});

test('refuses a SKU already in the store', () => {
  const error = item.given([added]).when(add).thenThrows(ItemAlreadyInStore);
  assert.ok(error instanceof AlreadyExists);
  assert.is(error.code, 'item-already-in-store');
  assert.is(error.status, 409);
});

test('adds a SKU again after it was removed, starting afresh', () => {
  item.given([added, removed]).when({ ...add, quantity: 2 }).then([{ ...added, data: { ...added.data, quantity: 2 } }]);
});

for (const [field, change] of [
  ['quantity', { quantity: -1 }],
  ['quantity', { quantity: 2.5 }],
  ['lowStockThreshold', { lowStockThreshold: -1 }],
] as const) {
  test(`refuses to add with ${JSON.stringify(change)}`, () => {
    const error = item.when({ ...add, ...change }).thenThrows(InvalidValue);
    assert.equal(error.errors, [{ field, reason: 'must be a whole number, 0 or more' }]);
  });
}

// Adjusting stock

test('goods received add to the stock', () => {
  item.given([added]).when(adjust(5, 'received')).then([adjusted(5, 'received', 15)]);
});

test('goods returned add to the stock', () => {
  item.given([added]).when(adjust(1, 'returned')).then([adjusted(1, 'returned', 11)]);
});

test('goods sold take from the stock, and the note is kept', () => {
  item
    .given([added])
    .when(adjust(-3, 'sold', 'till 4'))
    .then([{ type: 'StockAdjusted', data: { delta: -3, reason: 'sold', note: 'till 4', reference: null, quantityAfter: 7 } }]);
});

test('damaged goods take from the stock', () => {
  item.given([added]).when(adjust(-2, 'damaged')).then([adjusted(-2, 'damaged', 8)]);
});

test('a correction goes either way', () => {
  item.given([added]).when(adjust(4, 'correction')).then([adjusted(4, 'correction', 14)]);
  item.given([added]).when(adjust(-4, 'correction')).then([adjusted(-4, 'correction', 6)]);
});

test('selling every last unit leaves zero', () => {
  item.given([added]).when(adjust(-10, 'sold')).then([adjusted(-10, 'sold', 0)]);
});

test('adjusts from the level the history leaves', () => {
  item
    .given([added, adjusted(-4, 'sold', 6), { type: 'StockCounted', data: { countedQuantity: 5, previousQuantity: 6, delta: -1, note: null } }])
    .when(adjust(-5, 'sold'))
    .then([adjusted(-5, 'sold', 0)]);
});

test('refuses to sell more than is in stock', () => {
  const error = item.given([added]).when(adjust(-11, 'sold')).thenThrows(InsufficientStock);
  assert.equal(error.extra, { available: 10, requested: 11 });
  assert.is(error.code, 'insufficient-stock');
  assert.is(error.status, 409);
  assert.ok(error instanceof RuleViolated);
});

test('refuses a correction below zero', () => {
  item.given([added]).when(adjust(-11, 'correction')).thenThrows(InsufficientStock);
});

test('refuses to write off damage beyond the stock', () => {
  item.given([added, adjusted(-10, 'sold', 0)]).when(adjust(-1, 'damaged')).thenThrows(InsufficientStock);
});

for (const [delta, reason] of [
  [-1, 'received'],
  [-1, 'returned'],
  [1, 'sold'],
  [1, 'damaged'],
] as const) {
  test(`refuses ${reason} with a delta of ${delta}`, () => {
    const error = item.given([added]).when(adjust(delta, reason)).thenThrows(InvalidDelta);
    assert.ok(error instanceof DomainError);
    assert.is(error.status, 422);
    assert.is(error.code, 'invalid-delta');
    assert.equal(error.extra.errors, [{ field: 'delta', reason: `must be ${delta < 0 ? 'positive' : 'negative'} when the reason is ${reason}` }]);
  });
}

for (const delta of [0, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`refuses a delta of ${delta}`, () => {
    item.given([added]).when(adjust(delta, 'correction')).thenThrows(InvalidDelta);
  });
}

test('refuses a delta that overflows what can be counted', () => {
  item.given([added]).when(adjust(Number.MAX_SAFE_INTEGER, 'received')).thenThrows(InvalidDelta);
});

// Counting stock

test('a count replaces the level and records the difference', () => {
  item
    .given([added])
    .when(count(7, 'shelf 3'))
    .then([{ type: 'StockCounted', data: { countedQuantity: 7, previousQuantity: 10, delta: -3, note: 'shelf 3' } }]);
});

test('a count that finds more records a positive difference', () => {
  item
    .given([added])
    .when(count(12))
    .then([{ type: 'StockCounted', data: { countedQuantity: 12, previousQuantity: 10, delta: 2, note: null } }]);
});

test('a count that matches is still recorded, for the auditors', () => {
  item
    .given([added])
    .when(count(10))
    .then([{ type: 'StockCounted', data: { countedQuantity: 10, previousQuantity: 10, delta: 0, note: null } }]);
});

test('a count of zero empties the shelf', () => {
  item
    .given([added])
    .when(count(0))
    .then([{ type: 'StockCounted', data: { countedQuantity: 0, previousQuantity: 10, delta: -10, note: null } }]);
});

for (const countedQuantity of [-1, 0.5]) {
  test(`refuses a count of ${countedQuantity}`, () => {
    const error = item.given([added]).when(count(countedQuantity)).thenThrows(InvalidValue);
    assert.is(error.errors[0]?.field, 'countedQuantity');
  });
}

// A closed store moves no stock

const closed = { storeStatus: 'closed' } as const;

for (const [delta, reason] of [[5, 'received'], [-1, 'sold'], [1, 'returned'], [-1, 'damaged'], [2, 'correction']] as const) {
  test(`refuses ${reason} ${delta} on an item of a closed store, naming the store`, () => {
    const error = item.given([added]).when({ ...(adjust(delta, reason) as AdjustStock), ...closed }).thenThrows(StoreNotOpen);
    assert.is(error.code, 'store-not-open');
    assert.match(error.message, storeId);
  });
}

test('adjusts as before when the store is open', () => {
  item.given([added]).when({ ...(adjust(-1, 'sold') as AdjustStock), storeStatus: 'open' }).then([adjusted(-1, 'sold', 9)]);
});

test('refuses a count above zero on an item of a closed store', () => {
  item.given([added]).when({ ...(count(4) as CountStock), ...closed }).thenThrows(StoreNotOpen);
});

test('takes a count of zero on an item of a closed store: what a receipt racing the close left is written off', () => {
  item
    .given([added])
    .when({ ...(count(0, 'written off after close') as CountStock), ...closed })
    .then([{ type: 'StockCounted', data: { countedQuantity: 0, previousQuantity: 10, delta: -10, note: 'written off after close' } }]);
});

// Low-stock threshold

test('changes the low-stock threshold, recording the previous one', () => {
  item
    .given([added])
    .when(threshold(5))
    .then([{ type: 'LowStockThresholdChanged', data: { lowStockThreshold: 5, previous: 3 } }]);
});

test('changing to the same threshold writes nothing', () => {
  item.given([added]).when(threshold(3)).thenNothing();
});

test('refuses a negative threshold', () => {
  item.given([added]).when(threshold(-1)).thenThrows(InvalidValue);
});

// Removing

test('removes a SKU from the store, recording what was left', () => {
  item
    .given([added, adjusted(-4, 'sold', 6)])
    .when(remove)
    .then([{ type: 'StockItemRemoved', data: { quantityAtRemoval: 6 } }]);
});

const everyChange = [adjust(1, 'received'), count(1), threshold(1), remove];

for (const command of everyChange) {
  test(`${command.type} on a SKU never added to the store is not found`, () => {
    const error = item.when(command).thenThrows(NotFound);
    assert.equal(error.extra, { resource: 'stock item', id: `${storeId}/${skuId}` });
  });
  test(`${command.type} on a SKU removed from the store is not found`, () => {
    item.given([added, removed]).when(command).thenThrows(NotFound);
  });
}

// What evolve keeps

test('evolve keeps the level and the threshold', () => {
  const state = item
    .given([
      added,
      adjusted(5, 'received', 15),
      { type: 'LowStockThresholdChanged', data: { lowStockThreshold: 8, previous: 3 } },
    ])
    .state();
  assert.equal(state, { status: 'present', storeId, skuId, quantity: 15, lowStockThreshold: 8 });
});

// Stock never goes negative, whatever the sequence of commands

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('stock never goes negative and always equals what the events say', () => {
  const reasons: AdjustmentReason[] = ['received', 'sold', 'damaged', 'returned', 'correction'];
  for (let seed = 1; seed <= 50; seed += 1) {
    const next = random(seed);
    const pick = (n: number) => Math.floor(next() * n);
    let state: StockItemState = stockItemDecider.initialState();
    let expected = 0;
    const apply = (command: StockItemCommand) => {
      try {
        for (const event of stockItemDecider.decide(command, state)) {
          state = stockItemDecider.evolve(state, event);
          if (event.type === 'StockItemAdded') expected = event.data.quantity;
          if (event.type === 'StockAdjusted') expected += event.data.delta;
          if (event.type === 'StockCounted') expected += event.data.delta;
        }
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
    };
    apply({ ...add, quantity: pick(5) });
    for (let step = 0; step < 200; step += 1) {
      const roll = pick(20);
      if (roll === 0) apply(count(pick(10)));
      else {
        const reason = reasons[pick(reasons.length)] ?? 'correction';
        const size = 1 + pick(6);
        const sign = reason === 'received' || reason === 'returned' ? 1 : reason === 'correction' && pick(2) === 0 ? 1 : -1;
        apply(adjust(sign * size, reason));
      }
      assert.ok(state.status === 'present', `seed ${seed}: the item stays present`);
      assert.ok(state.quantity >= 0, `seed ${seed}, step ${step}: quantity ${state.quantity}`);
      assert.is(state.quantity, expected, `seed ${seed}, step ${step}: state and events agree`);
    }
  }
});

test.run();
