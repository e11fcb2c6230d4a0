import { type DatabaseTransactionConnection, sql } from 'slonik';
import { streamCategory } from '../../../shared/event-store/port.js';
import type { AppliedEvent, AppliedEventsProjection } from '../projection.js';

/**
 * How many SKUs are live (created, not deleted): the dashboard's `skus`, a counter kept
 * here instead of a count over every SKU row on each read. Added to, so it must see each
 * event once: the projector hands over only the events it applied (never a repeat).
 */
export const catalogTotalsProjection: AppliedEventsProjection = {
  name: 'catalog totals',

  async apply(tx, schema, applied) {
    await addLiveSkus(tx, schema, liveSkusAdded(applied));
  },
};

/** What some applied events add to the count of live SKUs. */
export function liveSkusAdded(applied: readonly AppliedEvent[]): number {
  let liveSkus = 0;
  for (const { event, recorded } of applied) {
    if (streamCategory(recorded.streamId) !== 'sku') continue;
    if (event.type === 'SkuCreated') liveSkus += 1;
    else if (event.type === 'SkuDeleted') liveSkus -= 1;
  }
  return liveSkus;
}

/** `evenZero`: make the row even for nothing (a rebuild's sum of batches that did add to it). */
export async function addLiveSkus(tx: DatabaseTransactionConnection, schema: string, liveSkus: number, evenZero = false): Promise<void> {
  if (liveSkus === 0 && !evenZero) return;
  // One row: every batch that creates or deletes a SKU takes its lock, last in the
  // transaction (this projection runs last), so they queue there and never in a cycle.
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([schema, 'catalog_totals'])} as t (singleton, live_skus) values (true, ${liveSkus})
    on conflict (singleton) do update set live_skus = t.live_skus + excluded.live_skus`);
}

/**
 * Sets the counter from the SKU rows, as the events would have: for a read model whose
 * rows were written some other way (test seeds). The projector never needs it.
 */
export async function recountCatalogTotals(tx: DatabaseTransactionConnection, schema: string): Promise<void> {
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([schema, 'catalog_totals'])} as t (singleton, live_skus)
    select true, count(*) filter (where not deleted) from ${sql.identifier([schema, 'skus'])}
    on conflict (singleton) do update set live_skus = excluded.live_skus`);
}
