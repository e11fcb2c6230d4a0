import { type DatabaseTransactionConnection, sql } from 'slonik';
import type { StockroomEvent } from '../../../shared/events/index.js';
import type { MovementReason } from '../../../shared/movement-reasons.js';
import { itemOfStream } from '../../../shared/hot-model/keys.js';
import type { AppliedEvent, AppliedEventsProjection } from '../projection.js';

export interface Movement {
  storeId: string;
  skuId: string;
  reason: MovementReason;
  unitsIn: number;
  unitsOut: number;
}

/** The units one stock-item event moves, or null when it moves none. */
export function movementOf(event: StockroomEvent, streamId: string): Movement | null {
  const units = (reason: MovementReason, delta: number): Movement | null =>
    delta === 0 ? null : { ...itemOfStream(streamId), reason, unitsIn: Math.max(delta, 0), unitsOut: Math.max(-delta, 0) };
  switch (event.type) {
    case 'StockItemAdded':
      return units('added', event.data.quantity);
    case 'StockAdjusted':
      return units(event.data.reason, event.data.delta);
    case 'StockCounted':
      return units('count', event.data.delta);
    case 'StockItemRemoved':
      return units('removed', -event.data.quantityAtRemoval);
    default:
      return null;
  }
}

/** Hourly rows are read for 7 days at most; a day more covers the edge of the window. */
const HOURLY_KEPT_MS = 8 * 24 * 3600_000;

interface Counter {
  unitsIn: number;
  unitsOut: number;
}

const addTo = (counters: Map<string, Counter>, key: string, movement: Movement) => {
  const counter = counters.get(key) ?? { unitsIn: 0, unitsOut: 0 };
  counter.unitsIn += movement.unitsIn;
  counter.unitsOut += movement.unitsOut;
  counters.set(key, counter);
};

/**
 * Units in and out per UTC day and reason, and per SKU and UTC hour, at the time each event
 * was recorded. Counters are added to, so they must see each event once: the projector
 * hands over only the events it applied (never a repeat).
 */
export const movementsProjection: AppliedEventsProjection = {
  name: 'movements',

  async apply(tx, schema, applied) {
    const daily = new Map<string, Counter>();
    const hourly = new Map<string, Counter>();
    const hourlySince = Date.now() - HOURLY_KEPT_MS;
    for (const { event, recorded } of applied) {
      const movement = movementOf(event, recorded.streamId);
      if (!movement) continue;
      const at = recorded.recordedAt.toISOString();
      addTo(daily, `${at.slice(0, 10)}|${movement.reason}`, movement);
      // A rebuild replays years: hours nobody will read are not written at all.
      if (recorded.recordedAt.getTime() >= hourlySince) addTo(hourly, `${movement.skuId}|${at.slice(0, 13)}:00:00Z`, movement);
    }
    await addDaily(tx, schema, daily);
    await addHourly(tx, schema, hourly);
  },
};

const rowsOf = (counters: Map<string, Counter>, names: [string, string]) =>
  [...counters.entries()].map(([key, counter]) => {
      const [first, second] = key.split('|');
      return { [names[0]]: first, [names[1]]: second, units_in: counter.unitsIn, units_out: counter.unitsOut };
    });

async function addDaily(tx: DatabaseTransactionConnection, schema: string, counters: Map<string, Counter>): Promise<void> {
  if (counters.size === 0) return;
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([schema, 'movements_daily'])} as t (day, reason, units_in, units_out)
    select day, reason, units_in, units_out
      from jsonb_to_recordset(${JSON.stringify(rowsOf(counters, ['day', 'reason']))}::jsonb)
           as x(day date, reason text, units_in bigint, units_out bigint)
     -- Counter rows are locked in key order by every batch: two replicas never wait in a cycle.
     order by day, reason
    on conflict (day, reason) do update set units_in = t.units_in + excluded.units_in, units_out = t.units_out + excluded.units_out`);
}

async function addHourly(tx: DatabaseTransactionConnection, schema: string, counters: Map<string, Counter>): Promise<void> {
  if (counters.size === 0) return;
  const table = sql.identifier([schema, 'sku_movements_hourly']);
  const rows = rowsOf(counters, ['sku_id', 'hour']);
  const skuIds = [...new Set(rows.map((row) => String(row['sku_id'])))];
  // Pruned per SKU as it moves, locking the old rows in key order before the new ones
  // (as every batch does), rather than by a sweeper that would need a schedule of its own.
  await tx.query(sql.unsafe`
    delete from ${table} where (sku_id, hour) in (
      select sku_id, hour from ${table}
       where sku_id = any(${sql.array(skuIds, 'uuid')}) and hour < now() - make_interval(secs => ${HOURLY_KEPT_MS / 1000})
       order by sku_id, hour for update)`);
  await tx.query(sql.unsafe`
    insert into ${table} as t (sku_id, hour, units_in, units_out)
    select sku_id, hour, units_in, units_out
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(sku_id uuid, hour timestamptz, units_in bigint, units_out bigint)
     order by sku_id, hour
    on conflict (sku_id, hour) do update set units_in = t.units_in + excluded.units_in, units_out = t.units_out + excluded.units_out`);
}
