import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NothingToChange, StoreIsClosed } from '../../../src/shared/domain-errors.js';
import { AlreadyExists, NotFound, RuleViolated } from '../../../src/shared/errors.js';
import { storeDecider, type StoreEvent } from '../../../src/write/store/decider.js';
import { StockRemains } from '../../../src/write/stock-remains.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('store decider');
const store = spec(storeDecider);

const storeId = '01900000-0000-7000-8000-0000000000b1';
const opened: StoreEvent = {
  type: 'StoreOpened',
  data: { storeId, name: 'Harbour Street', code: 'HS', address: null },
};
const closed: StoreEvent = { type: 'StoreClosed', data: {} };

test('opens a store', () => {
  store.when({ type: 'OpenStore', storeId, name: 'Harbour Street', code: 'HS', address: null }).then([opened]);
});

test('refuses to open a store twice', () => {
  store
    .given([opened])
    .when({ type: 'OpenStore', storeId, name: 'Other', code: null, address: null })
    .thenThrows(AlreadyExists);
});

test('refuses to open again a store that was closed', () => {
  store
    .given([opened, closed])
    .when({ type: 'OpenStore', storeId, name: 'Other', code: null, address: null })
    .thenThrows(AlreadyExists);
});

test('renames a store', () => {
  store
    .given([opened])
    .when({ type: 'RenameStore', storeId, name: 'Quayside' })
    .then([{ type: 'StoreRenamed', data: { name: 'Quayside' } }]);
});

test('renaming to the same name writes nothing', () => {
  store.given([opened]).when({ type: 'RenameStore', storeId, name: 'Harbour Street' }).thenNothing();
});

test('changes only the details that change', () => {
  store
    .given([opened])
    .when({ type: 'ChangeStoreDetails', storeId, code: 'HS', address: '1 Harbour Street' })
    .then([{ type: 'StoreDetailsChanged', data: { address: '1 Harbour Street' } }]);
});

test('clears a detail with null', () => {
  store
    .given([opened])
    .when({ type: 'ChangeStoreDetails', storeId, code: null })
    .then([{ type: 'StoreDetailsChanged', data: { code: null } }]);
});

test('changing details to the same values writes nothing', () => {
  store.given([opened]).when({ type: 'ChangeStoreDetails', storeId, code: 'HS', address: null }).thenNothing();
});

test('a details change naming no field is refused', () => {
  store.given([opened]).when({ type: 'ChangeStoreDetails', storeId }).thenThrows(NothingToChange);
});

test('closes a store whose items hold no stock', () => {
  store.given([opened]).when({ type: 'CloseStore', storeId, stock: [] }).then([closed]);
  store.given([opened]).when({ type: 'CloseStore', storeId, stock: [{ storeId, skuId: 'sku-a', quantity: 0 }] }).then([closed]);
});

test('refuses to close a store while stock remains, naming the items', () => {
  const stock = [
    { storeId, skuId: 'sku-a', quantity: 7 },
    { storeId, skuId: 'sku-b', quantity: 0 },
    { storeId, skuId: 'sku-c', quantity: 2 },
  ];
  const error = store.given([opened]).when({ type: 'CloseStore', storeId, stock }).thenThrows(StockRemains);
  assert.is(error.status, 409);
  assert.is(error.code, 'stock-remains');
  assert.match(error.message, /9 unit\(s\) in 2 item\(s\)/);
  assert.equal((error.extra.errors as { field: string }[]).map((e) => e.field), ['items.sku-a', 'items.sku-c']);
});

const everyChange = [
  { type: 'RenameStore', storeId, name: 'Quayside' },
  { type: 'ChangeStoreDetails', storeId, address: 'Pier 4' },
  { type: 'CloseStore', storeId, stock: [] },
] as const;

for (const command of everyChange) {
  test(`${command.type} on an unknown store is not found`, () => {
    const error = store.when(command).thenThrows(NotFound);
    assert.equal(error.extra, { resource: 'store', id: storeId });
  });
  test(`${command.type} on a closed store is refused`, () => {
    const error = store.given([opened, closed]).when(command).thenThrows(StoreIsClosed);
    assert.ok(error instanceof RuleViolated);
    assert.is(error.code, 'store-closed');
    assert.is(error.status, 409);
  });
}

test('evolve keeps the name and details', () => {
  const state = store
    .given([
      opened,
      { type: 'StoreRenamed', data: { name: 'Quayside' } },
      { type: 'StoreDetailsChanged', data: { address: 'Pier 4' } },
      closed,
    ])
    .state();
  assert.equal(state, { status: 'closed', storeId, name: 'Quayside', code: 'HS', address: 'Pier 4' });
});

test.run();
