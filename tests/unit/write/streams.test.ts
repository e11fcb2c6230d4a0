import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { streamCategory } from '../../../src/shared/event-store/port.js';
import {
  skuCodeReservationStream,
  skuStream,
  stockItemStream,
  storeStream,
  usernameReservationStream,
  userStream,
} from '../../../src/write/streams.js';

const test = suite('stream names');

const storeId = '01900000-0000-7000-8000-0000000000b1';
const skuId = '01900000-0000-7000-8000-0000000000c1';

test('names each aggregate stream category-id', () => {
  assert.is(userStream('u1'), 'user-u1');
  assert.is(storeStream(storeId), `store-${storeId}`);
  assert.is(skuStream(skuId), `sku-${skuId}`);
  assert.is(stockItemStream(storeId, skuId), `stockitem-${storeId}_${skuId}`);
});

test('the category is the part before the first dash, even with UUIDs in the id', () => {
  assert.is(streamCategory(stockItemStream(storeId, skuId)), 'stockitem');
  assert.is(streamCategory(usernameReservationStream('mary-jane')), 'username');
  assert.is(streamCategory(skuCodeReservationStream('TEA-EARL-250')), 'skucode');
});

test('usernames are reserved regardless of case', () => {
  assert.is(usernameReservationStream('Alice'), 'username-alice');
  assert.is(usernameReservationStream('ALICE'), usernameReservationStream('alice'));
});

test('SKU codes are reserved regardless of case', () => {
  assert.is(skuCodeReservationStream('tea-earl-250'), 'skucode-TEA-EARL-250');
  assert.is(skuCodeReservationStream('Tea-Earl-250'), skuCodeReservationStream('TEA-EARL-250'));
});

test.run();
