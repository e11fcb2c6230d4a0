import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventStoreAuditTrail } from '../../../src/read/audit/port-trail.js';
import type { EventToAppend } from '../../../src/shared/event-store/port.js';
import { type KurrentDbOnDouble, startKurrentDbOnDouble, stopKurrentDbOnDouble } from '../../support/kurrentdb-on-double.js';

/** The audit trail through the port, as EVENT_STORE=eventstoredb serves it (against the KurrentDB test double). */
const test = suite<KurrentDbOnDouble>('audit trail through the event store port');

test.before.each(async (context) => void Object.assign(context, await startKurrentDbOnDouble('port_trail')));
test.after.each(stopKurrentDbOnDouble);

const by = (actor: string, type: string): EventToAppend => ({
  id: randomUUID(),
  type,
  data: {},
  metadata: { actor, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
});

test('filters by store, SKU, actor and type, in position order, paged across reads', async ({ store }) => {
  await store.append('store-A', [by('ann', 'StoreOpened')], 'no_stream');
  await store.append('sku-S1', [by('ann', 'SkuCreated')], 'no_stream');
  await store.append('stockitem-A_S1', [by('bob', 'StockItemAdded'), by('bob', 'StockAdjusted')], 'no_stream');
  await store.append('stockitem-B_S1', [by('ann', 'StockItemAdded')], 'no_stream');
  await store.append('stockitem-A_S1', [by('ann', 'StockAdjusted')], 1);
  // Chunks of 2 events per read: a page is filled across several reads of $all.
  const trail = eventStoreAuditTrail(store, 2);
  const types = async (filter: Parameters<typeof trail.page>[0], limit = 100) => (await trail.page(filter, 0n, limit)).map((e) => `${e.streamId}:${e.type}`);
  assert.equal(await types({ storeId: 'A' }), ['store-A:StoreOpened', 'stockitem-A_S1:StockItemAdded', 'stockitem-A_S1:StockAdjusted', 'stockitem-A_S1:StockAdjusted']);
  assert.equal(await types({ skuId: 'S1' }), ['sku-S1:SkuCreated', 'stockitem-A_S1:StockItemAdded', 'stockitem-A_S1:StockAdjusted', 'stockitem-B_S1:StockItemAdded', 'stockitem-A_S1:StockAdjusted']);
  assert.equal(await types({ actor: 'bob' }), ['stockitem-A_S1:StockItemAdded', 'stockitem-A_S1:StockAdjusted']);
  assert.equal(await types({ storeId: 'A', types: ['StockAdjusted'] }), ['stockitem-A_S1:StockAdjusted', 'stockitem-A_S1:StockAdjusted']);
  assert.equal(await types({ skuId: 'S1' }, 2), ['sku-S1:SkuCreated', 'stockitem-A_S1:StockItemAdded']);
  // The next page starts after the last position of the one before.
  const first = await trail.page({ storeId: 'A' }, 0n, 2);
  const second = await trail.page({ storeId: 'A' }, first.at(-1)!.position, 2);
  assert.equal(second.map((e) => e.type), ['StockAdjusted', 'StockAdjusted']);
  assert.equal(await types({ to: new Date(Date.now() - 60_000) }), []);
});

test.run();
