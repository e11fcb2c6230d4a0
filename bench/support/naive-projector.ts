/**
 * The catch-up peer (issue 13): the projector a user would write first. It reads the
 * events in position order, pages of 1,000 with `pg`, and applies each one in a
 * transaction of its own: BEGIN, one INSERT or UPDATE of the item's row, the checkpoint,
 * COMMIT. Only the stock level is kept (naive_stock), none of the read model's other
 * tables, so it does less than PostgresProjector per event. It reads after the writers are
 * done, so it may step over the holes in the positions without waiting for them.
 *
 * It stops after `budgetMs` at the latest: at a few thousand events a second a million
 * would take minutes, and its rate does not change along the way (the same work per event).
 */
import pg from 'pg';
import { z } from 'zod/v4';
import { itemOfStream } from '../../src/shared/hot-model/keys.js';
import type { LatencyHistogram } from './latency.js';

const eventRow = z.object({ position: z.string(), stream_id: z.string(), revision: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) });
const added = z.object({ quantity: z.int() });
const adjusted = z.object({ quantityAfter: z.int() });

export interface NaiveRun {
  applied: number;
  /** Whether every event was applied before the budget ran out. */
  complete: boolean;
  /** Items and units in naive_stock at the end. */
  items: number;
  units: number;
}

/** Its two connections, opened before the measured run so that their backends' CPU is counted. */
export async function naiveConnections(databaseUrl: string): Promise<{ reader: pg.Client; writer: pg.Client; end(): Promise<void> }> {
  const reader = new pg.Client({ connectionString: databaseUrl });
  const writer = new pg.Client({ connectionString: databaseUrl });
  await reader.connect();
  await writer.connect();
  return {
    reader,
    writer,
    async end() {
      await writer.query('drop table if exists naive_stock, naive_checkpoint').catch(() => {});
      await reader.end().catch(() => {});
      await writer.end().catch(() => {});
    },
  };
}

export async function naiveProjector(options: {
  reader: pg.Client;
  writer: pg.Client;
  budgetMs: number;
  latency: LatencyHistogram;
  onApplied: (applied: number) => void;
}): Promise<NaiveRun> {
  const { reader, writer } = options;
  await writer.query(`
    drop table if exists naive_stock, naive_checkpoint;
    create table naive_stock (
      store_id uuid not null, sku_id uuid not null, quantity bigint not null,
      revision bigint not null, position bigint not null, primary key (store_id, sku_id));
    create table naive_checkpoint (name text primary key, position bigint not null);
    insert into naive_checkpoint values ('naive', 0);`);
  const stopAt = performance.now() + options.budgetMs;
  let after = '0';
  let applied = 0;
  let complete = false;
  for (;;) {
    const page = await reader.query({
      name: 'naive-page',
      text: 'select e.position::text, e.stream_id, e.revision::text, e.type, e.data from es_events e where e.position > $1 order by e.position limit 1000',
      values: [after],
    });
    if (page.rows.length === 0) {
      complete = true;
      break;
    }
    for (const raw of page.rows) {
      const event = eventRow.parse(raw);
      const began = performance.now();
      await writer.query('begin');
      if (event.type === 'StockItemAdded' || event.type === 'StockAdjusted') {
        const { storeId, skuId } = itemOfStream(event.stream_id);
        const quantity = event.type === 'StockItemAdded' ? added.parse(event.data).quantity : adjusted.parse(event.data).quantityAfter;
        await writer.query({
          name: event.type,
          text:
            event.type === 'StockItemAdded'
              ? 'insert into naive_stock (store_id, sku_id, quantity, revision, position) values ($1, $2, $3, $4, $5)'
              : 'update naive_stock set quantity = $3, revision = $4, position = $5 where store_id = $1 and sku_id = $2',
          values: [storeId, skuId, quantity, event.revision, event.position],
        });
      }
      await writer.query({ name: 'naive-checkpoint', text: "update naive_checkpoint set position = $1 where name = 'naive'", values: [event.position] });
      await writer.query('commit');
      options.latency.record(performance.now() - began);
      applied += 1;
      after = event.position;
      options.onApplied(applied);
      if (performance.now() >= stopAt) break;
    }
    if (performance.now() >= stopAt) break;
  }
  const totals = z
    .object({ items: z.string(), units: z.string().nullable() })
    .parse((await writer.query('select count(*)::text as items, sum(quantity)::text as units from naive_stock')).rows[0]);
  return { applied, complete, items: Number(totals.items), units: Number(totals.units ?? 0) };
}
