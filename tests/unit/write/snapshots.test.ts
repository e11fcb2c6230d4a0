import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StockItemEvent } from '../../../src/shared/events/stock-item.js';
import { snapshotFingerprint, type SnapshotRecipe } from '../../../src/shared/snapshots/fingerprint.js';
import { stockItems } from '../../../src/write/aggregates.js';
import type { StockItemCommand } from '../../../src/write/stock-item/commands.js';
import { stockItemDecider, type StockItemEvent as Event, type StockItemState } from '../../../src/write/stock-item/decider.js';
import { evolve } from '../../../src/write/stock-item/evolve.js';
import { initialState, StockItemStateSchema } from '../../../src/write/stock-item/state.js';
import { spec } from '../../support/given-when-then.js';

/**
 * The pure half of snapshots: what a fingerprint changes with, and that a state kept as JSON
 * and read back, then folded on, is the state of a full fold (over random histories).
 */
const test = suite('snapshots: fingerprint and fold from a snapshot');
const item = spec(stockItemDecider);

const recipe: SnapshotRecipe = {
  aggregate: 'stock item',
  stateVersion: 1,
  evolve,
  initialState,
  stateSchema: StockItemStateSchema,
  eventSchema: StockItemEvent,
  eventTypes: StockItemEvent.options.map((option) => option.shape.type.value),
};

test('the aggregate snapshots stock items under the fingerprint of its recipe, the same each time it is computed', () => {
  assert.is(stockItems.snapshots?.fingerprint, snapshotFingerprint(recipe));
  assert.match(snapshotFingerprint(recipe), /^[0-9a-f]{64}$/);
});

test('a changed evolve, state version, schema version or upcaster makes another fingerprint', () => {
  const base = snapshotFingerprint(recipe);
  // Same behaviour, other text: the fingerprint errs towards "changed".
  const changedEvolve = (state: StockItemState, event: Event): StockItemState => (event.type === 'StockItemRemoved' ? state : evolve(state, event));
  const variants: Partial<SnapshotRecipe>[] = [
    { evolve: changedEvolve },
    { stateVersion: 2 },
    { schemaVersion: 3 },
    { upcasters: { StockAdjusted: { 1: (data) => ({ ...(data as object), reference: 'none' }) } } },
    { upcasters: { StockCounted: { 2: (data) => data } } },
    { aggregate: 'SKU' },
  ];
  const fingerprints = variants.map((variant) => snapshotFingerprint({ ...recipe, ...variant }));
  for (const fingerprint of fingerprints) assert.is.not(fingerprint, base);
  assert.is(new Set(fingerprints).size, variants.length);
});

test('an upcaster of another aggregate\'s event leaves the fingerprint as it was', () => {
  assert.is(snapshotFingerprint({ ...recipe, upcasters: { SkuCreated: { 2: (data) => data } } }), snapshotFingerprint({ ...recipe, upcasters: {} }));
});

/** A small seeded generator: a failing history can be run again from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const storeId = '01900000-0000-7000-8000-0000000000b1';
const skuId = '01900000-0000-7000-8000-0000000000c1';

/** A history the decider itself wrote, from random commands (refusals skipped). */
function history(seed: number): Event[] {
  const next = random(seed);
  const length = 1 + Math.floor(next() * 60);
  const events: Event[] = [];
  let state = initialState();
  for (let step = 0; events.length < length && step < length * 4; step += 1) {
    const roll = next();
    const command: StockItemCommand =
      state.status !== 'present'
        ? { type: 'AddStockItem', storeId, skuId, quantity: Math.floor(next() * 50), lowStockThreshold: Math.floor(next() * 5), storeStatus: 'open', skuExists: true }
        : roll < 0.6
          ? { type: 'AdjustStock', storeId, skuId, delta: Math.floor(next() * 21) - 10 || 1, reason: 'correction', note: next() < 0.5 ? null : 'shelf' }
          : roll < 0.8
            ? { type: 'CountStock', storeId, skuId, countedQuantity: Math.floor(next() * 40), note: null }
            : roll < 0.95
              ? { type: 'ChangeLowStockThreshold', storeId, skuId, lowStockThreshold: Math.floor(next() * 9) }
              : { type: 'RemoveStockItem', storeId, skuId };
    let decided: Event[];
    try {
      decided = stockItemDecider.decide(command, state);
    } catch {
      continue;
    }
    for (const event of decided) {
      events.push(event);
      state = evolve(state, event);
    }
  }
  return events;
}

/** As a snapshot store gives a state back: JSON, then the aggregate's schema. */
const keptAndReadBack = (state: StockItemState): StockItemState => StockItemStateSchema.parse(JSON.parse(JSON.stringify(state)));

test('property: a snapshot at any revision plus the events after it folds to the state of the full fold (300 random histories)', () => {
  for (let seed = 1; seed <= 300; seed += 1) {
    const events = history(seed);
    const full = item.given(events).state();
    for (let cut = 0; cut <= events.length; cut += 1) {
      const snapshot = keptAndReadBack(item.given(events.slice(0, cut)).state());
      const resumed = events.slice(cut).reduce(evolve, snapshot);
      assert.equal(resumed, full, `seed ${seed}, snapshot after ${cut} of ${events.length} events`);
    }
  }
});

test('given a history, when a command is decided on the state read back from a snapshot, then it gives the events of the full fold', () => {
  for (let seed = 1000; seed < 1100; seed += 1) {
    const events = history(seed);
    const full = item.given(events).state();
    const command: StockItemCommand = { type: 'AdjustStock', storeId, skuId, delta: -3, reason: 'sold', note: null };
    const decide = (state: StockItemState) => {
      try {
        return stockItemDecider.decide(command, state);
      } catch (refusal) {
        return (refusal as Error).constructor.name;
      }
    };
    assert.equal(decide(keptAndReadBack(full)), decide(full), `seed ${seed}`);
  }
});

test('a state that is not a stock item\'s does not read back', () => {
  for (const state of [{ status: 'present', storeId, skuId, quantity: 'lots', lowStockThreshold: 1 }, { status: 'gone' }, { status: 'present', storeId, skuId, quantity: -1, lowStockThreshold: 0 }, null]) {
    assert.not.ok(StockItemStateSchema.safeParse(state).success, JSON.stringify(state));
  }
});

test.run();
