import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { PostgresProjector } from '../../../src/projections/postgres/projector.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { readDashboardFigures } from '../../../src/read/inventory-dashboard.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';
import { unique } from '../../support/http-assertions.js';
import { stockTwoStores } from '../../support/two-stores.js';

/**
 * The dashboard's figures the projector keeps by difference (store_totals) and by counting
 * (catalog_totals) equal what summing every row gives, however the events are batched,
 * delivered again, or applied by two replicas at once: a price and the items it values
 * in two transactions racing, or in one batch together.
 */

interface Context {
  harness: Harness;
  manager: Client;
  events: RecordedEvent[];
  /** Where the last price change of the script is, and the item changes after it. */
  priceChange: number;
}

const test = suite<Context>('read model: the dashboard rows the projector keeps equal a sum over every row');

const figures = z.array(z.object({ store_id: z.string(), kept: z.string(), summed: z.string() }));

/** Each store's kept row beside the sum over its stock rows, as text (numbers exact). */
async function keptBesideSummed(harness: Harness): Promise<z.infer<typeof figures>> {
  return figures.parse(
    await harness.db.pool.any(sql.unsafe`
      with summed as (
        select s.store_id,
               count(*) filter (where not s.removed) as items,
               coalesce(sum(s.quantity) filter (where not s.removed), 0) as units,
               coalesce(sum(s.quantity * coalesce(k.price, 0)) filter (where not s.removed), 0) as stock_value,
               count(*) filter (where not s.removed and s.quantity <= s.low_stock_threshold) as low,
               count(*) filter (where not s.removed and s.quantity = 0) as out
          from read_model.stock s left join read_model.skus k on k.id = s.sku_id group by s.store_id)
      select coalesce(t.store_id, m.store_id)::text as store_id,
             concat_ws(' ', t.items, t.units, t.stock_value::numeric(20, 6), t.low_stock_items, t.out_of_stock_items) as kept,
             concat_ws(' ', m.items, m.units, m.stock_value::numeric(20, 6), m.low, m.out) as summed
        from read_model.store_totals t full join summed m on m.store_id = t.store_id
       order by 1`),
  );
}

async function liveSkus(harness: Harness): Promise<{ kept: number; counted: number }> {
  const row = z
    .object({ kept: z.number(), counted: z.number() })
    .parse(
      await harness.db.pool.one(sql.unsafe`
        select (select coalesce(sum(live_skus), 0) from read_model.catalog_totals)::int as kept,
               (select count(*) from read_model.skus where not deleted)::int as counted`),
    );
  return row;
}

async function assertKeptEqualsSummed(harness: Harness, label: string): Promise<void> {
  const rows = await keptBesideSummed(harness);
  assert.ok(rows.length >= 2, `${label}: the stores holding stock have rows`);
  for (const row of rows) assert.is(row.kept, row.summed, `${label}: store ${row.store_id}`);
  const skus = await liveSkus(harness);
  assert.is(skus.kept, skus.counted, `${label}: live SKUs`);
}

const fresh = (harness: Harness) => ensureReadModelSchema(harness.db.url, 'read_model', { replace: true });
const projector = (harness: Harness) => new PostgresProjector({ pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections });

test.before(async (context) => {
  context.harness = await startHarness('kept-rows');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const { manager } = context;
  const { north, south, tea, rope, salt, gone, item, ok } = await stockTwoStores(manager);
  await ok(manager.patch(item(north, tea), { delta: -5, reason: 'sold' }));
  await ok(manager.patch(item(south, rope), { countedQuantity: 1 }));
  await ok(manager.patch(item(north, salt), { delta: 4, reason: 'received' }));
  await ok(manager.patch(item(north, rope), { lowStockThreshold: 1 }));
  await ok(manager.delete(item(south, tea)));
  await ok(manager.delete(`/api/skus/${gone}`));
  await ok(manager.patch(`/api/skus/${salt}`, { price: '0.75' }));
  const before = await context.harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
  // Last: a change of price and changes of the items it values, to race or batch together.
  await ok(manager.patch(`/api/skus/${tea}`, { price: '5.25' }));
  await ok(manager.patch(item(north, tea), { delta: 9, reason: 'received' }));
  await ok(manager.patch(item(north, tea), { delta: -2, reason: 'sold' }));
  context.events = await context.harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
  context.priceChange = before.length;
});

test.after(async ({ harness }) => {
  await harness.close();
});

test('one batch, one event per batch, or batches of three: the kept rows equal the sums', async ({ harness, events }) => {
  for (const size of [events.length, 1, 3]) {
    await fresh(harness);
    const applying = projector(harness);
    for (let start = 0; start < events.length; start += size) {
      const batch = events.slice(start, start + size);
      await applying.applyBatch({ events: batch, partition: 0, through: batch.at(-1)!.position });
    }
    await assertKeptEqualsSummed(harness, `batches of ${size}`);
  }
});

test('delivered again, and twice at once: nothing counts twice', async ({ harness, events }) => {
  await fresh(harness);
  const applying = projector(harness);
  await applying.applyBatch({ events, partition: 0, through: 0n });
  const once = await keptBesideSummed(harness);
  await applying.applyBatch({ events, partition: 0, through: 0n });
  await applying.applyBatch({ events: events.slice(-4), partition: 1, through: 0n });
  await Promise.all([applying.applyBatch({ events, partition: 0, through: 0n }), projector(harness).applyBatch({ events, partition: 2, through: 0n })]);
  assert.equal(await keptBesideSummed(harness), once);
  await assertKeptEqualsSummed(harness, 'redelivered');
});

test('a price and the items it values, applied by two replicas at once: the same sums', async ({ harness, events, priceChange }) => {
  const price = events[priceChange]!;
  assert.is(price.type, 'SkuUpdated');
  const itemChanges = events.slice(priceChange + 1);
  assert.ok(itemChanges.length > 0 && itemChanges.every((event) => event.type === 'StockAdjusted'));
  for (let round = 0; round < 4; round += 1) {
    await fresh(harness);
    await projector(harness).applyBatch({ events: events.slice(0, priceChange), partition: 0, through: 0n });
    // Alternate who starts first: either may take the SKU's lock first.
    const first = round % 2 === 0 ? [price] : itemChanges;
    const second = round % 2 === 0 ? itemChanges : [price];
    await Promise.all([
      projector(harness).applyBatch({ events: first, partition: 1, through: 0n }),
      projector(harness).applyBatch({ events: second, partition: 2, through: 0n }),
    ]);
    await assertKeptEqualsSummed(harness, `race, round ${round}`);
  }
});

test('the price and the items in one batch: the same sums', async ({ harness, events, priceChange }) => {
  await fresh(harness);
  await projector(harness).applyBatch({ events: events.slice(0, priceChange), partition: 0, through: 0n });
  await projector(harness).applyBatch({ events: events.slice(priceChange), partition: 0, through: 0n });
  await assertKeptEqualsSummed(harness, 'one batch');
});

test('top movers: with more SKUs moved than it lists, the same ranking as over the join', async ({ harness, manager }) => {
  const storeId = (await manager.post('/api/stores', { name: 'Movers' })).json<{ id: string }>().id;
  for (let index = 0; index < 14; index += 1) {
    const skuId = (await manager.post('/api/skus', { code: unique('M'), name: `Mover ${index}`, lowStockThreshold: 1 })).json<{ id: string }>().id;
    const added = await manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 50, lowStockThreshold: 1 });
    assert.is(added.statusCode, 201, added.body);
    // Ties on units out (index % 5), broken by units in and then by id, as the ranking says.
    const sold = await manager.patch(`/api/inventory/stores/${storeId}/items/${skuId}`, { delta: -(1 + (index % 5)), reason: 'sold' });
    assert.is(sold.statusCode, 200, sold.body);
  }
  await fresh(harness);
  const events = await harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
  await projector(harness).applyBatch({ events, partition: 0, through: 0n });
  const figures = await harness.db.pool.transaction((tx) => readDashboardFigures(tx, (name) => sql.fragment`${sql.identifier(['read_model', name])}`));
  const ranked = z.array(z.object({ sku_id: z.string() })).parse(
    await harness.db.pool.any(sql.unsafe`
      select h.sku_id from read_model.sku_movements_hourly h join read_model.skus k on k.id = h.sku_id
       where h.hour >= date_trunc('hour', now(), 'UTC') - interval '23 hours'
       group by h.sku_id order by sum(h.units_out) desc, sum(h.units_in) desc, h.sku_id limit 10`),
  );
  assert.is(figures.topMovers.last24h.length, 10);
  assert.equal(figures.topMovers.last24h.map((mover) => mover.skuId), ranked.map((row) => row.sku_id));
  assert.equal(figures.topMovers.last7d, figures.topMovers.last24h);
});

/** The kept window sums beside sums over the hourly rows in the windows of the kept clock. */
async function windowsBesideHourly(harness: Harness) {
  const rows = z.array(z.object({ sku_id: z.string(), kept: z.string().nullable(), summed: z.string().nullable() })).parse(
    await harness.db.pool.any(sql.unsafe`
      with c as (select hour from read_model.movement_window_clock),
      summed as (
        select h.sku_id,
               concat_ws(' ', coalesce(sum(units_in) filter (where h.hour >= c.hour - interval '23 hours'), 0),
                              coalesce(sum(units_out) filter (where h.hour >= c.hour - interval '23 hours'), 0),
                              sum(units_in), sum(units_out)) as summed
          from read_model.sku_movements_hourly h, c
         where h.hour >= c.hour - interval '167 hours' and h.hour <= c.hour
         group by h.sku_id)
      select coalesce(w.sku_id, m.sku_id)::text as sku_id,
             concat_ws(' ', w.units_in_24h, w.units_out_24h, w.units_in_7d, w.units_out_7d) as kept, m.summed
        from read_model.sku_movement_windows w full join summed m on m.sku_id = w.sku_id
       order by 1`),
  );
  return rows;
}

test('top movers kept per window: as the clock passes, the hours that leave are taken out', async ({ harness, manager }) => {
  const storeId = (await manager.post('/api/stores', { name: 'Clock' })).json<{ id: string }>().id;
  const skus: string[] = [];
  for (let index = 0; index < 3; index += 1) {
    const skuId = (await manager.post('/api/skus', { code: unique('W'), name: `Window ${index}`, lowStockThreshold: 1 })).json<{ id: string }>().id;
    assert.is((await manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 100, lowStockThreshold: 1 })).statusCode, 201);
    skus.push(skuId);
  }
  const sell = async (skuId: string, units: number) =>
    assert.is((await manager.patch(`/api/inventory/stores/${storeId}/items/${skuId}`, { delta: -units, reason: 'sold' })).statusCode, 200);
  await fresh(harness);
  const applying = projector(harness);
  let after = 0n;
  const applyNew = async () => {
    const events = await harness.eventStore.readAll({ after, maxCount: 100_000 });
    after = events.at(-1)!.position;
    await applying.applyBatch({ events, partition: 0, through: after });
  };
  // Time cannot be moved; the data can: the clock and every hourly row go back together.
  const goBack = (hours: number) =>
    harness.db.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`update read_model.movement_window_clock set hour = hour - make_interval(hours => ${hours})`);
      await tx.query(sql.unsafe`update read_model.sku_movements_hourly set hour = hour - make_interval(hours => ${hours})`);
    });
  const check = async (label: string) => {
    for (const row of await windowsBesideHourly(harness)) assert.is(row.kept, row.summed, `${label}: SKU ${row.sku_id}`);
  };
  await applyNew();
  await check('first batch');
  await goBack(30); // the first movements leave the 24 hours
  await sell(skus[0]!, 2);
  await applyNew();
  await check('30 hours later');
  await goBack(150); // the first leave the 7 days; those of 30 hours ago leave the 24 hours
  await sell(skus[1]!, 3);
  await applyNew();
  await check('180 hours later');
  const windows = z.array(z.object({ sku_id: z.string(), units_out_24h: z.number(), units_out_7d: z.number() })).parse(
    await harness.db.pool.any(sql.unsafe`select sku_id::text, units_out_24h::int, units_out_7d::int from read_model.sku_movement_windows order by sku_id`),
  );
  assert.equal(
    windows.filter((row) => skus.includes(row.sku_id)).map((row) => [skus.indexOf(row.sku_id), row.units_out_24h, row.units_out_7d]).sort(),
    [[0, 0, 2], [1, 3, 3]],
    'sku 0: its sale of 150 hours ago in the 7 days only; sku 1: this hour; sku 2: only its first stock, gone',
  );
});

test('a read model made by the release before (no kept counter, no windows): the same report', async ({ harness, manager }) => {
  await fresh(harness);
  const events = await harness.eventStore.readAll({ after: 0n, maxCount: 100_000 });
  await projector(harness).applyBatch({ events, partition: 0, through: events.at(-1)!.position });
  const read = async () => {
    const response = await manager.get('/api/reports/inventory');
    assert.is(response.statusCode, 200, response.body);
    return { ...response.json<Record<string, unknown>>(), generatedAt: '' };
  };
  const withKept = await read();
  // A rolling deploy: this release's readers on the model the release before made, until a projector rebuilds it.
  await harness.db.pool.query(sql.unsafe`drop table read_model.catalog_totals, read_model.sku_movement_windows, read_model.movement_window_clock`);
  assert.equal(await read(), withKept);
});

test.run();
