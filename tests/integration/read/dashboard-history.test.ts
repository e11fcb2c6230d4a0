import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { newId } from '../../../src/shared/ids.js';
import type { Harness } from '../../support/app.js';
import { type DashboardFigures, foldDashboard } from './dashboard-fold.js';
import { ok, startReadHarness } from './support.js';
import { ADMIN, login } from '../../support/app.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const test = suite<{ harness: Harness }>('read API: the dashboard over days and hours gone by');

test.before(async (context) => {
  context.harness = await startReadHarness('dashboard_history');
});
test.after(async ({ harness }) => harness.close());

/**
 * Events recorded in the past cannot be written through the API (the store stamps them
 * now), so they are made here and handed to the projector as the bus would: the
 * projector folds them into the read model like any other.
 */
function history() {
  const events: RecordedEvent[] = [];
  let position = 1_000n;
  const revisions = new Map<string, number>();
  const at = (ago: number, streamId: string, type: string, data: object) => {
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    const recordedAt = new Date(Date.now() - ago);
    events.push({
      id: newId(),
      streamId,
      type,
      data,
      metadata: { actor: null, correlationId: newId(), causationId: null, at: recordedAt.toISOString(), schemaVersion: 1 },
      revision,
      position: (position += 1n),
      recordedAt,
    });
  };
  return { events, at };
}

test('each movement lands on its UTC day and hour; the windows leave out what is older', async ({ harness }) => {
  const { events, at } = history();
  const storeId = newId();
  const [rope, salt, tea] = [newId(), newId(), newId()];
  at(45 * DAY, `store-${storeId}`, 'StoreOpened', { storeId, name: 'Quay', code: null, address: null });
  for (const [skuId, code, price] of [[rope, 'ROPE', '2.50'], [salt, 'SALT', null], [tea, 'TEA', '4.125']] as const) {
    at(45 * DAY, `sku-${skuId}`, 'SkuCreated', { skuId, code, name: code.toLowerCase(), category: null, unit: 'each', price, lowStockThreshold: 2 });
  }
  const item = (skuId: string) => `stockitem-${storeId}_${skuId}`;
  let rq = 100;
  at(40 * DAY, item(rope), 'StockItemAdded', { storeId, skuId: rope, quantity: 100, lowStockThreshold: 5 }); // before the 30 days
  const sell = (ago: number, delta: number, reason = delta < 0 ? 'sold' : 'received') => {
    rq += delta;
    at(ago, item(rope), 'StockAdjusted', { delta, reason, note: null, quantityAfter: rq });
  };
  sell(29 * DAY + 2 * HOUR, -5);
  sell(10 * DAY, -5);
  sell(3 * DAY, 20);
  sell(30 * HOUR, -7); // in the 7 days, not the 24 hours
  sell(2 * HOUR, -2);
  at(9 * DAY, item(salt), 'StockItemAdded', { storeId, skuId: salt, quantity: 50, lowStockThreshold: 5 }); // not in 7 days
  at(5 * HOUR, item(salt), 'StockAdjusted', { delta: -9, reason: 'damaged', note: null, quantityAfter: 41 });
  at(6 * DAY, item(tea), 'StockItemAdded', { storeId, skuId: tea, quantity: 4, lowStockThreshold: 5 });
  at(1 * HOUR, item(tea), 'StockCounted', { countedQuantity: 0, previousQuantity: 4, delta: -4, note: null });

  const projector = new PostgresProjector({ pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections });
  // In two batches, the second delivered twice: counted once.
  await projector.applyBatch({ events: events.slice(0, 8), partition: 0, through: 0n });
  await projector.applyBatch({ events: events.slice(5), partition: 0, through: 0n });
  await projector.applyBatch({ events: events.slice(5), partition: 0, through: 0n });

  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const report = ok<DashboardFigures & { generatedAt: string }>(await manager.get('/api/reports/inventory'));
  const { generatedAt, ...figures } = report;
  const wanted = foldDashboard(events, new Date(generatedAt));
  assert.equal({ stockValue: figures.stockValue, perStore: figures.perStore, movements: figures.movements, topMovers: figures.topMovers }, wanted);

  assert.is(report.movements.reduce((sum, day) => sum + day.byReason['added']!.unitsIn, 0), 54, 'salt and tea added within 30 days; rope before');
  assert.is(report.topMovers.last24h.map((m) => `${m.code}:${m.unitsOut}`).join(' '), 'SALT:9 TEA:4 ROPE:2');
  assert.is(report.topMovers.last7d.map((m) => `${m.code}:${m.unitsOut}/${m.unitsIn}`).join(' '), 'ROPE:9/20 SALT:9/0 TEA:4/4');
  assert.is(report.stockValue, '252.50', 'rope 101 x 2.50; salt has no price; tea is out');
});

test.run();
