import * as assert from 'uvu/assert';
import type { Client } from './app.js';
import { unique } from './http-assertions.js';

/** A small catalogue of two stores and four SKUs (one priced at three decimals, one unpriced, one to remove), the items stocked. */
export interface TwoStores {
  north: string;
  south: string;
  tea: string;
  rope: string;
  salt: string;
  gone: string;
  /** The path of a stock item. */
  item(storeId: string, skuId: string): string;
  /** Asserts a command answered 200, 201 or 204. */
  ok(response: ReturnType<Client['post']>): Promise<void>;
}

/**
 * Creates it through the API as a manager: North holds tea 20, rope 2 and salt 0; South tea
 * 7 and rope 10 (the dashboard and the rebuild tests both fold what follows over it).
 */
export async function stockTwoStores(manager: Client): Promise<TwoStores> {
  const id = async (response: ReturnType<Client['post']>) => {
    const answer = await response;
    assert.ok(answer.statusCode === 200 || answer.statusCode === 201, answer.body);
    return answer.json<{ id: string }>().id;
  };
  const ok = async (response: ReturnType<Client['post']>) => {
    const answer = await response;
    assert.ok(answer.statusCode === 200 || answer.statusCode === 201 || answer.statusCode === 204, answer.body);
  };
  const north = await id(manager.post('/api/stores', { name: 'North' }));
  const south = await id(manager.post('/api/stores', { name: 'South' }));
  const tea = await id(manager.post('/api/skus', { code: unique('T'), name: 'Tea', lowStockThreshold: 3, price: '4.50' }));
  const rope = await id(manager.post('/api/skus', { code: unique('R'), name: 'Rope', lowStockThreshold: 3, price: '2.125' }));
  const salt = await id(manager.post('/api/skus', { code: unique('S'), name: 'Salt', lowStockThreshold: 3 }));
  const gone = await id(manager.post('/api/skus', { code: unique('G'), name: 'Gone', lowStockThreshold: 3, price: '1.00' }));
  const item = (storeId: string, skuId: string) => `/api/inventory/stores/${storeId}/items/${skuId}`;
  const add = (storeId: string, skuId: string, quantity: number) => ok(manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity, lowStockThreshold: 3 }));
  await add(north, tea, 20);
  await add(north, rope, 2);
  await add(north, salt, 0);
  await add(south, tea, 7);
  await add(south, rope, 10);
  return { north, south, tea, rope, salt, gone, item, ok };
}
