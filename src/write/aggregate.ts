import type { Decider } from '../shared/decider.js';
import type { StockroomEvent } from '../shared/events/index.js';

/** What the generic command handler needs to know of one kind of aggregate. */
export interface Aggregate<Command, Event extends StockroomEvent, State> {
  /** Used in error messages: "user", "store", "SKU", "stock item". */
  name: string;
  decider: Decider<Command, Event, State>;
  /** The event types of this aggregate, to refuse a foreign event found in its stream. */
  eventTypes: ReadonlySet<string>;
}

export const aggregate = <Command, Event extends StockroomEvent, State>(
  name: string,
  decider: Decider<Command, Event, State>,
  schema: { options: readonly { shape: { type: { value: string } } }[] },
): Aggregate<Command, Event, State> => ({
  name,
  decider,
  eventTypes: new Set(schema.options.map((option) => option.shape.type.value)),
});
