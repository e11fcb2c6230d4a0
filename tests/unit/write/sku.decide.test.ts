import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidValue, NothingToChange } from '../../../src/shared/domain-errors.js';
import { AlreadyExists, NotFound } from '../../../src/shared/errors.js';
import { skuDecider, type SkuEvent } from '../../../src/write/sku/decider.js';
import type { CreateSku } from '../../../src/write/sku/commands.js';
import { StockRemains } from '../../../src/write/stock-remains.js';
import { spec } from '../../support/given-when-then.js';

const test = suite('sku decider');
const sku = spec(skuDecider);

const skuId = '01900000-0000-7000-8000-0000000000c1';
const create: CreateSku = {
  type: 'CreateSku',
  skuId,
  code: 'TEA-EARL-250',
  name: 'Earl Grey 250 g',
  category: 'tea',
  unit: 'each',
  price: '4.95',
  lowStockThreshold: 10,
};
const { type: _type, ...createdData } = create;
const created: SkuEvent = { type: 'SkuCreated', data: createdData };
const deleted: SkuEvent = { type: 'SkuDeleted', data: {} };

test('creates a SKU', () => {
  sku.when(create).then([created]);
});

test('creates a SKU with no price and no category', () => {
  sku
    .when({ ...create, price: null, category: null, lowStockThreshold: 0 })
    .then([{ type: 'SkuCreated', data: { ...createdData, price: null, category: null, lowStockThreshold: 0 } }]);
});

for (const price of ['0', '12', '12.5', '12.50', '123456789012.1234']) {
  test(`accepts the price ${price}`, () => {
    sku.when({ ...create, price }).then([{ type: 'SkuCreated', data: { ...createdData, price } }]);
  });
}

for (const price of ['', '-1', '.5', '12.', '1,50', '12.34567', '1234567890123', '1e3', ' 12.50', 'NaN']) {
  test(`refuses the price ${JSON.stringify(price)}`, () => {
    const error = sku.when({ ...create, price }).thenThrows(InvalidValue);
    assert.is(error.status, 422);
    assert.is(error.errors[0]?.field, 'price');
  });
}

for (const lowStockThreshold of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
  test(`refuses the low-stock threshold ${lowStockThreshold}`, () => {
    const error = sku.when({ ...create, lowStockThreshold }).thenThrows(InvalidValue);
    assert.is(error.errors[0]?.field, 'lowStockThreshold');
  });
}

test('refuses to create a SKU twice', () => {
  sku.given([created]).when(create).thenThrows(AlreadyExists);
});

test('refuses to create again a SKU that was deleted', () => {
  sku.given([created, deleted]).when(create).thenThrows(AlreadyExists);
});

test('updates only the fields that change', () => {
  sku
    .given([created])
    .when({ type: 'UpdateSku', skuId, name: 'Earl Grey 250 g', price: '5.25', lowStockThreshold: 12 })
    .then([{ type: 'SkuUpdated', data: { price: '5.25', lowStockThreshold: 12 } }]);
});

test('clears the price and category with null, and changes the unit', () => {
  sku
    .given([created])
    .when({ type: 'UpdateSku', skuId, price: null, category: null, unit: 'box' })
    .then([{ type: 'SkuUpdated', data: { price: null, category: null, unit: 'box' } }]);
});

test('an update to the same values writes nothing', () => {
  sku
    .given([created])
    .when({ type: 'UpdateSku', skuId, name: 'Earl Grey 250 g', category: 'tea', price: '4.95' })
    .thenNothing();
});

test('an update naming no field is refused', () => {
  sku.given([created]).when({ type: 'UpdateSku', skuId }).thenThrows(NothingToChange);
});

test('an update with a bad price or threshold is refused', () => {
  sku.given([created]).when({ type: 'UpdateSku', skuId, price: '4,95' }).thenThrows(InvalidValue);
  sku.given([created]).when({ type: 'UpdateSku', skuId, lowStockThreshold: -3 }).thenThrows(InvalidValue);
});

test('deletes a SKU no store holds stock of', () => {
  sku.given([created]).when({ type: 'DeleteSku', skuId, stock: [] }).then([deleted]);
  sku.given([created]).when({ type: 'DeleteSku', skuId, stock: [{ storeId: 'store-a', skuId, quantity: 0 }] }).then([deleted]);
});

test('refuses to delete a SKU while a store holds stock of it, naming the stores', () => {
  const error = sku.given([created]).when({ type: 'DeleteSku', skuId, stock: [{ storeId: 'store-a', skuId, quantity: 3 }] }).thenThrows(StockRemains);
  assert.is(error.code, 'stock-remains');
  assert.equal((error.extra.errors as { field: string }[]).map((e) => e.field), ['items.store-a']);
});

const everyChange = [
  { type: 'UpdateSku', skuId, name: 'Assam' },
  { type: 'DeleteSku', skuId, stock: [] },
] as const;

for (const command of everyChange) {
  test(`${command.type} on an unknown SKU is not found`, () => {
    const error = sku.when(command).thenThrows(NotFound);
    assert.equal(error.extra, { resource: 'sku', id: skuId });
  });
  test(`${command.type} on a deleted SKU is not found`, () => {
    sku.given([created, deleted]).when(command).thenThrows(NotFound);
  });
}

test('evolve keeps the fields, and the code for releasing it later', () => {
  const state = sku
    .given([created, { type: 'SkuUpdated', data: { name: 'Assam', price: null } }, deleted])
    .state();
  assert.equal(state, { status: 'deleted', ...createdData, name: 'Assam', price: null });
});

test.run();
