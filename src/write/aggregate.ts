import type { z } from 'zod/v4';
import type { Decider } from '../shared/decider.js';
import type { StockroomEvent } from '../shared/events/index.js';
import { snapshotFingerprint } from '../shared/snapshots/fingerprint.js';

/** How an aggregate's state is snapshotted: parsed back with `state`, trusted only under `fingerprint`. */
export interface SnapshotSpec<State> {
  fingerprint: string;
  state: z.ZodType<State>;
}

/** What the generic command handler needs to know of one kind of aggregate. */
export interface Aggregate<Command, Event extends StockroomEvent, State> {
  /** Used in error messages: "user", "store", "SKU", "stock item". */
  name: string;
  decider: Decider<Command, Event, State>;
  /** The event types of this aggregate, to refuse a foreign event found in its stream. */
  eventTypes: ReadonlySet<string>;
  /** Set for aggregates whose streams grow long (stock items): see docs/decisions.md, "Snapshots". */
  snapshots?: SnapshotSpec<State>;
}

type EventUnion = z.ZodType & { options: readonly { shape: { type: { value: string } } }[] };

export const aggregate = <Command, Event extends StockroomEvent, State>(
  name: string,
  decider: Decider<Command, Event, State>,
  schema: EventUnion,
  /** Snapshot this aggregate's streams: its state's schema, and a version bumped when the fold changes outside evolve. */
  snapshots?: { state: z.ZodType<State>; stateVersion: number },
): Aggregate<Command, Event, State> => {
  const eventTypes = new Set(schema.options.map((option) => option.shape.type.value));
  return {
    name,
    decider,
    eventTypes,
    ...(snapshots
      ? {
          snapshots: {
            state: snapshots.state,
            fingerprint: snapshotFingerprint({
              aggregate: name,
              stateVersion: snapshots.stateVersion,
              evolve: decider.evolve,
              initialState: decider.initialState,
              stateSchema: snapshots.state,
              eventSchema: schema,
              eventTypes,
            }),
          },
        }
      : {}),
  };
};
