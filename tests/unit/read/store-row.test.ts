import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toStoreRow } from '../../../src/read/inventory.js';

const storeId = '7d1e3c57-4f47-4b1a-9a52-0d3b4a1f6a01';
const skuId = '0c6a4bb5-8a43-46a5-9f3e-6a5b1b2f9b02';
const viaSlonik = { store_id: storeId, sku_id: skuId, code: 'A-1', name: 'Apples', category: null, unit: 'kg', quantity: 12n, low_stock_threshold: 12, revision: 7n, sort_0: 'A-1', cursor_id: skuId };
const answer = { storeId, skuId, code: 'A-1', name: 'Apples', category: null, unit: 'kg', quantity: 12, lowStockThreshold: 12, lowStock: true, revision: 7 };

test('a store row from slonik (int8 as bigint) and from plain pg (int8 as text) answer the same item', () => {
  assert.equal(toStoreRow(viaSlonik), answer);
  assert.equal(toStoreRow({ ...viaSlonik, quantity: '12', revision: '7' }), answer);
  assert.equal(toStoreRow({ ...viaSlonik, category: 'fruit', quantity: '-3' }), { ...answer, category: 'fruit', quantity: -3 });
  assert.equal(toStoreRow({ ...viaSlonik, quantity: '13' }).lowStock, false);
});

test('a store row of another shape is refused, as zod refused it', () => {
  const wrong: Record<string, unknown>[] = [
    { ...viaSlonik, quantity: 12 },
    { ...viaSlonik, quantity: '1.5' },
    { ...viaSlonik, quantity: '' },
    { ...viaSlonik, quantity: '12 ' },
    { ...viaSlonik, revision: null },
    { ...viaSlonik, revision: undefined },
    { ...viaSlonik, code: null },
    { ...viaSlonik, name: 5 },
    { ...viaSlonik, unit: undefined },
    { ...viaSlonik, store_id: 1 },
    { ...viaSlonik, sku_id: null },
    { ...viaSlonik, category: 3 },
    { ...viaSlonik, category: undefined },
    { ...viaSlonik, low_stock_threshold: '12' },
    { ...viaSlonik, low_stock_threshold: Number.NaN },
    { ...viaSlonik, low_stock_threshold: 12n },
  ];
  for (const row of wrong) assert.throws(() => toStoreRow(row), TypeError, JSON.stringify(row, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)));
});

test.run();
