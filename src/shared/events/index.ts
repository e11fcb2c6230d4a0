/**
 * The event catalogue: every event Stockroom writes, its data checked by zod. The write
 * side and the read side meet here and nowhere else.
 */
import { z } from 'zod/v4';
import { ManagerRosterEvent } from './manager-roster.js';
import { ReservationEvent } from './reservation.js';
import { SkuEvent } from './sku.js';
import { StockItemEvent } from './stock-item.js';
import { StoreEvent } from './store.js';
import { CURRENT_SCHEMA_VERSION, upcast, type Upcasters } from './upcasters.js';
import { UserEvent } from './user.js';

export { CURRENT_SCHEMA_VERSION } from './upcasters.js';
export { Count, Id, isCount } from './define.js';
export * from './user.js';
export * from './store.js';
export * from './sku.js';
export * from './stock-item.js';
export * from './reservation.js';
export * from './manager-roster.js';

export const StockroomEvent = z.discriminatedUnion('type', [
  ...UserEvent.options,
  ...StoreEvent.options,
  ...SkuEvent.options,
  ...StockItemEvent.options,
  ...ReservationEvent.options,
  ...ManagerRosterEvent.options,
]);
export type StockroomEvent = z.infer<typeof StockroomEvent>;
export type StockroomEventType = StockroomEvent['type'];

export const stockroomEventTypes: ReadonlySet<string> = new Set(
  StockroomEvent.options.map((option) => option.shape.type.value),
);

/** Each type's data schema, as the union holds it. */
const dataSchemas: ReadonlyMap<string, z.ZodType> = new Map(StockroomEvent.options.map((option) => [option.shape.type.value, option.shape.data]));

export const isStockroomEventType = (type: string): type is StockroomEventType => stockroomEventTypes.has(type);

/** See upcasters.ts for how an entry is written. */
export const upcasters: Upcasters<StockroomEventType> = {
  // Version 2: an adjustment names the document behind it; before, there was none to name.
  StockAdjusted: {
    // The same object as `{ ...data, reference: null }`, made by assignment: V8 gives the
    // spread's copy a shape that then reads several times slower, and a rebuild reads
    // every old adjustment through here (docs/decisions.md, "Upcasting by assignment").
    1: (data) => {
      const upcast: Record<string, unknown> = Object.assign({}, data);
      upcast['reference'] = null;
      return upcast;
    },
  },
};

/** A stored event that this version of Stockroom cannot read. */
export class UnreadableEvent extends Error {
  constructor(
    readonly type: string,
    readonly schemaVersion: number,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot read event ${type} at schema version ${schemaVersion}: ${reason}`, options);
    this.name = 'UnreadableEvent';
  }
}

/** Reads stored data as the current shape of its event: upcast, then validated. */
export function parseEvent(type: string, data: unknown, schemaVersion: number): StockroomEvent {
  if (!isStockroomEventType(type)) throw new UnreadableEvent(type, schemaVersion, 'unknown event type');
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new UnreadableEvent(type, schemaVersion, 'not a schema version');
  }
  // Written by a newer release (during a rolling deploy): guessing its shape would be worse than stopping.
  if (schemaVersion > CURRENT_SCHEMA_VERSION) {
    throw new UnreadableEvent(type, schemaVersion, `newer than ${CURRENT_SCHEMA_VERSION}`);
  }
  // The schema of this type's data only: the union would find the same one by `type`, and
  // wrap and copy the event once more around it.
  const parsed = dataSchemas.get(type)!.safeParse(upcast(upcasters, type, data, schemaVersion));
  if (!parsed.success) {
    // Said of the event, as the union said it: `data.delta`, not `delta`.
    const error = new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: ['data', ...issue.path] })));
    throw new UnreadableEvent(type, schemaVersion, z.prettifyError(error), { cause: error });
  }
  return { type, data: parsed.data } as StockroomEvent;
}
