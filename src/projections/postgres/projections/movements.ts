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
  const units = unitsMoved(event);
  return units && { ...itemOfStream(streamId), ...units };
}

type UnitsMoved = Omit<Movement, 'storeId' | 'skuId'>;

function unitsMoved(event: StockroomEvent): UnitsMoved | null {
  const delta = deltaOf(event);
  return delta === 0 ? null : { reason: reasonOf(event), unitsIn: Math.max(delta, 0), unitsOut: Math.max(-delta, 0) };
}

/** Hourly rows are read for 7 days at most; a day more covers the edge of the window. */
const HOURLY_KEPT_MS = 8 * 24 * 3600_000;

interface Counter {
  unitsIn: number;
  unitsOut: number;
}

/**
 * The counters of some applied events, summed by key (whole days and hours since the epoch,
 * named as dates once per key when written: a rebuild passes millions of events through
 * here). A live batch writes its own; a rebuild may sum many batches before writing them
 * (rebuild-held.ts): they are sums, and the windows' clock moves the same way for the
 * batches' latest hour as for each in turn.
 */
export class MovementCounts {
  /** By reason, then whole day: a number key and a handful of reasons, no string built per event. */
  private daily = new Map<string, Map<number, Counter>>();
  /** By stream (the string the batch already hashed), then whole hour; summed per SKU when written. */
  private hourly = new Map<string, Map<number, Counter>>();
  private keys = 0;

  /** Keys held: what a holder bounds its memory by. */
  get size(): number {
    return this.keys;
  }

  add(applied: readonly AppliedEvent[]): void {
    const hourlySince = Date.now() - HOURLY_KEPT_MS;
    for (const { event, recorded } of applied) {
      const delta = deltaOf(event);
      if (delta === 0) continue;
      const at = recorded.recordedAt.getTime();
      this.addTo(this.daily, reasonOf(event), Math.floor(at / DAY_MS), delta);
      // A rebuild replays years: hours nobody will read are not written at all.
      if (at >= hourlySince) this.addTo(this.hourly, recorded.streamId, Math.floor(at / HOUR_MS), delta);
    }
  }

  private addTo(counters: Map<string, Map<number, Counter>>, key: string, unit: number, delta: number): void {
    let units = counters.get(key);
    if (!units) counters.set(key, (units = new Map()));
    const counter = units.get(unit);
    if (counter) {
      if (delta > 0) counter.unitsIn += delta;
      else counter.unitsOut -= delta;
    } else {
      units.set(unit, { unitsIn: Math.max(delta, 0), unitsOut: Math.max(-delta, 0) });
      this.keys += 1;
    }
  }

  /** Adds what is held to the tables, and holds nothing after. */
  async write(tx: DatabaseTransactionConnection, schema: string): Promise<void> {
    const { daily, hourly } = this;
    this.daily = new Map();
    this.hourly = new Map();
    this.keys = 0;
    const iso = (units: number, unitMs: number) => new Date(units * unitMs).toISOString();
    const hours = new Map<string, Counter>();
    for (const [streamId, units] of hourly) {
      const skuId = skuOfStream(streamId);
      for (const [hour, counter] of units) {
        const key = `${skuId}|${iso(hour, HOUR_MS).slice(0, 13)}:00:00Z`;
        const sum = hours.get(key);
        if (sum) {
          sum.unitsIn += counter.unitsIn;
          sum.unitsOut += counter.unitsOut;
        } else hours.set(key, { ...counter });
      }
    }
    const days = new Map<string, Counter>();
    for (const [reason, units] of daily) for (const [day, counter] of units) days.set(`${iso(day, DAY_MS).slice(0, 10)}|${reason}`, counter);
    // The windows first: they read the hourly rows that leave them before any is pruned.
    await addToWindows(tx, schema, hours);
    await addDaily(tx, schema, days);
    await addHourly(tx, schema, hours);
  }
}

/** The units a stock-item event moves (in positive, out negative; 0 for none): unitsMoved without its object. */
function deltaOf(event: StockroomEvent): number {
  switch (event.type) {
    case 'StockItemAdded':
      return event.data.quantity;
    case 'StockAdjusted':
      return event.data.delta;
    case 'StockCounted':
      return event.data.delta;
    case 'StockItemRemoved':
      return -event.data.quantityAtRemoval;
    default:
      return 0;
  }
}

/** The reason deltaOf's units moved for (asked only of an event that moves some). */
function reasonOf(event: StockroomEvent): MovementReason {
  switch (event.type) {
    case 'StockItemAdded':
      return 'added';
    case 'StockAdjusted':
      return event.data.reason;
    case 'StockCounted':
      return 'count';
    default:
      return 'removed';
  }
}

/**
 * Units in and out per UTC day and reason, and per SKU and UTC hour, at the time each event
 * was recorded. Counters are added to, so they must see each event once: the projector
 * hands over only the events it applied (never a repeat).
 */
export const movementsProjection: AppliedEventsProjection = {
  name: 'movements',

  async apply(tx, schema, applied) {
    const counts = new MovementCounts();
    counts.add(applied);
    await counts.write(tx, schema);
  },
};

const DAY_MS = 24 * 3600_000;
const HOUR_MS = 3600_000;

/** `stockitem-<storeId>_<skuId>` → the SKU id, without the object itemOfStream makes. */
const skuOfStream = (streamId: string): string => streamId.slice(streamId.lastIndexOf('_') + 1);

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

/**
 * Keeps each SKU's sums over the top movers' windows (the clock's hour and the 23, or 167,
 * before it). The clock row is locked first by every batch that moves units, alone by a batch
 * that moves the clock and shared by the others, so the windows never change under a move:
 * the clock moves to the current hour (or to the latest hour of
 * the batch, never back), the hours that left each window are subtracted from the hourly
 * rows (still there: pruning keeps 8 days and runs after this), then the batch's hours that
 * are inside the windows are added. Added to, so each movement must come once: the batch's
 * applied events only, as for the other counters.
 */
async function addToWindows(tx: DatabaseTransactionConnection, schema: string, counters: Map<string, Counter>): Promise<void> {
  if (counters.size === 0) return;
  const clock = sql.identifier([schema, 'movement_window_clock']);
  const windows = sql.identifier([schema, 'sku_movement_windows']);
  const hourly = sql.identifier([schema, 'sku_movements_hourly']);
  const rows = JSON.stringify(rowsOf(counters, ['sku_id', 'hour']));
  const batch = sql.fragment`jsonb_to_recordset(${rows}::jsonb) as x(sku_id uuid, hour timestamptz, units_in bigint, units_out bigint)`;
  await tx.query(sql.unsafe`insert into ${clock} (singleton, hour) values (true, date_trunc('hour', now(), 'UTC')) on conflict (singleton) do nothing`);
  // The clock is taken alone only by a batch that moves it (its target past the clock's hour:
  // a new hour, or a batch of later hours); the others only add to windows that end where it
  // stands, which commutes, and share it, so that the partitions' batches of one hour do not
  // wait for each other. A batch that shares it never asks for it alone afterwards (no upgrade):
  // the first statement decides, and the second holds the clock still until the commit, even
  // for a batch whose target another batch reached while it waited.
  const target = sql.fragment`greatest(date_trunc('hour', now(), 'UTC'), (select max(hour) from ${batch}))`;
  await tx.query(sql.unsafe`select hour from ${clock} where hour < ${target} for update`);
  await tx.query(sql.unsafe`select hour from ${clock} for share`);
  // Where the clock is and where this batch moves it (to the current hour or the batch's
  // latest, never back): written, not read back, so that these statements need no answer
  // and go with the batch's other writes (see BatchedWrites).
  const move = sql.fragment`(select hour as old, greatest(hour, date_trunc('hour', now(), 'UTC'), (select max(hour) from ${batch})) as new from ${clock})`;
  await tx.query(sql.unsafe`
    update ${windows} w set
      units_in_24h = w.units_in_24h - l.in_24h, units_out_24h = w.units_out_24h - l.out_24h,
      units_in_7d = w.units_in_7d - l.in_7d, units_out_7d = w.units_out_7d - l.out_7d
    from (select sku_id,
                 coalesce(sum(units_in) filter (where hour >= m.old - interval '23 hours'), 0) as in_24h,
                 coalesce(sum(units_out) filter (where hour >= m.old - interval '23 hours'), 0) as out_24h,
                 coalesce(sum(units_in) filter (where hour < m.new - interval '167 hours'), 0) as in_7d,
                 coalesce(sum(units_out) filter (where hour < m.new - interval '167 hours'), 0) as out_7d
            from ${hourly}, ${move} m
           where m.new > m.old and hour >= m.old - interval '167 hours' and hour < m.new - interval '23 hours'
           group by sku_id) l
   where w.sku_id = l.sku_id`);
  await tx.query(sql.unsafe`
    delete from ${windows} where units_in_7d = 0 and units_out_7d = 0 and units_in_24h = 0 and units_out_24h = 0
       and exists (select from ${move} m where m.new > m.old)`);
  await tx.query(sql.unsafe`update ${clock} c set hour = m.new from ${move} m where m.new > m.old`);
  // The clock now stands where the windows end.
  const end = sql.fragment`(select hour from ${clock})`;
  await tx.query(sql.unsafe`
    insert into ${windows} as t (sku_id, units_in_24h, units_out_24h, units_in_7d, units_out_7d)
    select sku_id,
           coalesce(sum(units_in) filter (where hour >= ${end} - interval '23 hours'), 0),
           coalesce(sum(units_out) filter (where hour >= ${end} - interval '23 hours'), 0),
           sum(units_in), sum(units_out)
      from ${batch}
     where hour >= ${end} - interval '167 hours'
     group by sku_id
     order by sku_id
    on conflict (sku_id) do update set
      units_in_24h = t.units_in_24h + excluded.units_in_24h, units_out_24h = t.units_out_24h + excluded.units_out_24h,
      units_in_7d = t.units_in_7d + excluded.units_in_7d, units_out_7d = t.units_out_7d + excluded.units_out_7d`);
}
