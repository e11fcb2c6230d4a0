import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CURRENT_SCHEMA_VERSION,
  isStockroomEventType,
  parseEvent,
  StockroomEvent,
  stockroomEventTypes,
  UnreadableEvent,
} from '../../../src/shared/events/index.js';
import { upcast, type Upcasters } from '../../../src/shared/events/upcasters.js';

const test = suite('event catalogue');

const storeId = '01900000-0000-7000-8000-0000000000b1';
const skuId = '01900000-0000-7000-8000-0000000000c1';

test('holds every event of every aggregate, each once', () => {
  assert.is(CURRENT_SCHEMA_VERSION, 2);
  assert.equal([...stockroomEventTypes].sort(), [
    'LowStockThresholdChanged',
    'ManagerAdded',
    'ManagerRemoved',
    'ManagerRosterStarted',
    'Released',
    'Reserved',
    'SkuCreated',
    'SkuDeleted',
    'SkuUpdated',
    'StockAdjusted',
    'StockCounted',
    'StockItemAdded',
    'StockItemRemoved',
    'StoreClosed',
    'StoreDetailsChanged',
    'StoreOpened',
    'StoreRenamed',
    'UserDeleted',
    'UserPasswordChanged',
    'UserProfileUpdated',
    'UserRegistered',
    'UserRoleChanged',
    'UserStoresAssigned',
  ]);
  assert.is(StockroomEvent.options.length, stockroomEventTypes.size);
  assert.ok(isStockroomEventType('StockAdjusted'));
  assert.not.ok(isStockroomEventType('StockAdjustedd'));
});

test('parses stored data as its event', () => {
  const data = { storeId, skuId, quantity: 4, lowStockThreshold: 1 };
  assert.equal(parseEvent('StockItemAdded', data, 1), { type: 'StockItemAdded', data });
});

test('refuses an unknown event type', () => {
  assert.throws(() => parseEvent('StockTeleported', {}, 1), (error: unknown) => error instanceof UnreadableEvent);
});

test('refuses data that breaks its schema, saying why', () => {
  assert.throws(
    () => parseEvent('StockAdjusted', { delta: 0, reason: 'sold', note: null, quantityAfter: 3 }, 1),
    (error: unknown) => error instanceof UnreadableEvent && /StockAdjusted/.test(error.message),
  );
  assert.throws(() => parseEvent('StockItemAdded', { storeId, skuId, quantity: -1, lowStockThreshold: 0 }, 1));
  assert.throws(() => parseEvent('SkuUpdated', { price: '1,50' }, 1));
  assert.throws(() => parseEvent('UserRegistered', { userId: 'not-a-uuid' }, 1));
});

test('names the field of the event that breaks it, as the union of every event did (data.<field>)', () => {
  assert.throws(
    () => parseEvent('StockAdjusted', { delta: 'two', reason: 'sold', note: null, quantityAfter: 3 }, 2),
    (error: unknown) => error instanceof UnreadableEvent && /at data\.delta/.test(error.message),
  );
});

test('upcasts a version-1 adjustment to the object the spread made: its fields, then reference null', () => {
  const data = { note: 'shelf', delta: -2, reason: 'sold', quantityAfter: 3 };
  const event = parseEvent('StockAdjusted', data, 1);
  assert.equal(event, { type: 'StockAdjusted', data: { ...data, reference: null } });
  assert.equal(Object.keys(event.data), ['delta', 'reason', 'note', 'reference', 'quantityAfter']);
  assert.equal(data, { note: 'shelf', delta: -2, reason: 'sold', quantityAfter: 3 }, 'the stored data is left as it was');
});

test('refuses a schema version it does not know', () => {
  const data = { name: 'Quayside' };
  assert.throws(() => parseEvent('StoreRenamed', data, CURRENT_SCHEMA_VERSION + 1), /newer than/);
  assert.throws(() => parseEvent('StoreRenamed', data, 0), /not a schema version/);
});

test('upcasts one version at a time, skipping versions where a type kept its shape', () => {
  const upcasters: Upcasters<'StockAdjusted'> = {
    StockAdjusted: {
      1: (data) => ({ ...(data as object), comment: 'from v1' }),
      3: (data) => ({ ...(data as object), upcastTo4: true }),
    },
  };
  assert.equal(upcast(upcasters, 'StockAdjusted', { delta: 1 }, 1, 4), { delta: 1, comment: 'from v1', upcastTo4: true });
  assert.equal(upcast(upcasters, 'StockAdjusted', { delta: 1 }, 2, 4), { delta: 1, upcastTo4: true });
  assert.equal(upcast(upcasters, 'StockAdjusted', { delta: 1 }, 4, 4), { delta: 1 });
});

test.run();
