import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { levelFromNewest, nextLevel, toStockChange } from '../../../src/projections/notifier/stock-change.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import type { StockItemEvent } from '../../../src/shared/events/index.js';

/** What a `stock` frame says after an event, and the level read back from the newest events only. */
const test = suite('live: stock changes from events');

const storeId = '0190a1b2-0000-7000-8000-000000000001';
const skuId = '0190a1b2-0000-7000-8000-000000000002';
const streamId = `stockitem-${storeId}_${skuId}`;

const recorded = (revision: number, event: StockItemEvent): { event: StockItemEvent; recorded: RecordedEvent } => ({
  event,
  recorded: {
    id: `0190a1b2-0000-7000-8000-${String(revision).padStart(12, '0')}`,
    streamId,
    type: event.type,
    data: event.data,
    metadata: { actor: 'user-1', correlationId: 'c', causationId: null, at: '2026-11-30T10:00:00.000Z', schemaVersion: 1 },
    revision,
    position: BigInt(100 + revision),
    recordedAt: new Date('2026-11-30T10:00:00.000Z'),
  },
});

const added = recorded(0, { type: 'StockItemAdded', data: { storeId, skuId, quantity: 10, lowStockThreshold: 3 } });
const sold = recorded(1, { type: 'StockAdjusted', data: { delta: -4, reason: 'sold', note: null, quantityAfter: 6 } });
const threshold = recorded(2, { type: 'LowStockThresholdChanged', data: { lowStockThreshold: 7, previous: 3 } });
const counted = recorded(3, { type: 'StockCounted', data: { countedQuantity: 5, previousQuantity: 6, delta: -1, note: null } });
const removed = recorded(4, { type: 'StockItemRemoved', data: { quantityAtRemoval: 5 } });
const history = [added, sold, threshold, counted, removed];

/** Folds the whole history: what levelFromNewest must agree with. */
const folded = (upTo: number) => history.slice(0, upTo + 1).reduce((level, { event, recorded: r }) => nextLevel(level, event, r), null as ReturnType<typeof nextLevel>);

test('given an item sold from, when a threshold change comes, then the frame carries the quantity it had', () => {
  const level = nextLevel(folded(1), threshold.event, threshold.recorded)!;
  const change = toStockChange(level, threshold.event, threshold.recorded);
  assert.equal(
    { quantity: change.quantity, lowStockThreshold: change.lowStockThreshold, removed: change.removed, event: change.event, reason: change.reason, actor: change.actor, revision: change.revision, position: change.position },
    { quantity: 6, lowStockThreshold: 7, removed: false, event: 'LowStockThresholdChanged', reason: null, actor: 'user-1', revision: 2, position: 102n },
  );
});

test('the reason is the adjustment\'s, `count` for a count, else null', () => {
  assert.is(toStockChange(folded(1)!, sold.event, sold.recorded).reason, 'sold');
  assert.is(toStockChange(folded(3)!, counted.event, counted.recorded).reason, 'count');
  assert.is(toStockChange(folded(4)!, removed.event, removed.recorded).reason, null);
  assert.is(folded(4)!.removed, true);
});

test('the level read back from the newest events equals the fold of the whole stream, at every revision', () => {
  for (let revision = 0; revision < history.length; revision += 1) {
    const newestFirst = history.slice(0, revision + 1).reverse();
    assert.equal(levelFromNewest(streamId, newestFirst), folded(revision), `revision ${revision}`);
  }
});

test('the read back stops as soon as it knows: a sale and a threshold change are enough', () => {
  const later = recorded(5, { type: 'StockAdjusted', data: { delta: 2, reason: 'received', note: null, quantityAfter: 8 } });
  // After a removal a new life starts with StockItemAdded; here only what is newest matters.
  assert.equal(levelFromNewest(streamId, [later, threshold]), { storeId, skuId, quantity: 8, lowStockThreshold: 7, removed: false, revision: 5, position: 105n });
  assert.is(levelFromNewest(streamId, [later]), null, 'no threshold known yet: read further back');
  assert.is(levelFromNewest(streamId, []), null);
});

test.run();
