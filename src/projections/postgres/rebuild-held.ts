import type { DatabasePool, DatabaseTransactionConnection } from 'slonik';
import type { AppliedEventsProjection } from './projection.js';
import { addLiveSkus, catalogTotalsProjection, liveSkusAdded } from './projections/catalog-totals.js';
import { MovementCounts, movementsProjection } from './projections/movements.js';
import { addStoreTotals, type ItemDelta, storeTotalsDeltas, storeTotalsProjection } from './projections/store-totals.js';

/**
 * Keys a rebuild holds in memory per counter before it writes them (within the batch that
 * passes it): about 150 bytes a key, so some 15 MB each. The bench's store totals (10,000
 * items) stay under it and are written once; its movements, counted by item and hour (some
 * 250,000 in the last 8 days of a million events), a few times; a store of a million items
 * writes its store totals every 100,000 items a run of batches moved.
 */
export const HELD_KEYS = 100_000;

/**
 * The counters of a rebuild (movements, store totals, live SKUs) summed in memory across
 * batches and written once at the end (or when HELD_KEYS is passed), instead of a set of
 * statements per batch whose work is the keys the batch touched: every item, every SKU-hour,
 * fifty times over a million events. They are sums, so the order of the adding does not
 * change them, with two cares that keep the rows exactly the live projector's:
 *
 * - an item's difference is valued at its SKU's price when written: a batch that changes a
 *   price writes what is held with its own differences, valued at the price before it (as
 *   the live projector values a batch's items), before its change of price multiplies the
 *   units after it;
 * - a key a batch added to is written even when later batches bring it back to zero: the
 *   live projector made its row then (a store whose items were added and removed has totals
 *   of zero; a catalog whose SKU was created and deleted counts zero).
 *
 * Outside the batches' transactions' sight, which is safe only because a rebuild is all or
 * nothing (see LedgerCopy): nobody reads the schema until the swap, and a failed batch fails
 * the whole rebuild. `finish` writes what is held before the swap; what the swap applies
 * after it goes through the projections as usual.
 */
export class HeldCounters {
  private finished = false;
  private readonly movements = new MovementCounts();
  private items = new Map<string, ItemDelta>();
  private liveSkus = 0;
  private liveSkusTouched = false;

  /** `heldKeys`: the bound (HELD_KEYS unless told; tests make it small to write many times). */
  constructor(private readonly heldKeys = HELD_KEYS) {}

  /** The projection to run in place of `projection`: a counter's held version, or `projection` itself. */
  substitute(projection: AppliedEventsProjection): AppliedEventsProjection {
    if (projection === movementsProjection) return this.held(projection, (tx, schema, applied) => this.addMovements(tx, schema, applied));
    if (projection === storeTotalsProjection) return this.held(projection, (tx, schema, _applied, changes) => this.addStoreTotals(tx, schema, changes));
    if (projection === catalogTotalsProjection) {
      return this.held(projection, async (_tx, _schema, applied) => {
        const added = liveSkusAdded(applied);
        this.liveSkus += added;
        if (added !== 0) this.liveSkusTouched = true;
      });
    }
    return projection;
  }

  private held(projection: AppliedEventsProjection, hold: AppliedEventsProjection['apply']): AppliedEventsProjection {
    return {
      name: projection.name,
      apply: (tx, schema, applied, changes, options) =>
        this.finished ? projection.apply(tx, schema, applied, changes, options) : hold(tx, schema, applied, changes, options),
    };
  }

  private async addMovements(tx: DatabaseTransactionConnection, schema: string, applied: Parameters<AppliedEventsProjection['apply']>[2]): Promise<void> {
    this.movements.add(applied);
    if (this.movements.size > this.heldKeys) await this.movements.write(tx, schema);
  }

  private async addStoreTotals(tx: DatabaseTransactionConnection, schema: string, changes: Parameters<AppliedEventsProjection['apply']>[3]): Promise<void> {
    const { items, prices } = storeTotalsDeltas(changes);
    if (prices.length > 0) {
      // Held items are valued with this batch's, at the price before it.
      await addStoreTotals(tx, schema, [...this.takeItems(), ...items], prices, true);
      return;
    }
    for (const item of items) {
      const key = `${item.store_id}|${item.sku_id}`;
      const held = this.items.get(key);
      if (held) {
        held.items += item.items;
        held.units += item.units;
        held.low += item.low;
        held.out += item.out;
      } else this.items.set(key, { ...item });
    }
    if (this.items.size > this.heldKeys) await addStoreTotals(tx, schema, this.takeItems(), [], true);
  }

  private takeItems(): ItemDelta[] {
    const items = [...this.items.values()];
    this.items = new Map();
    return items;
  }

  /** Writes what is held, in one transaction; later batches (the swap's) apply as usual. */
  async finish(pool: DatabasePool, schema: string): Promise<void> {
    this.finished = true;
    await pool.transaction(async (tx) => {
      await this.movements.write(tx, schema);
      const items = this.takeItems();
      if (items.length > 0) await addStoreTotals(tx, schema, items, [], true);
      if (this.liveSkusTouched) await addLiveSkus(tx, schema, this.liveSkus, true);
    });
  }
}
