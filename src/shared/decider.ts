/**
 * A decider, as the functional event-sourcing school writes it: pure functions only.
 * `decide` never reads a clock, a database or a random source; whatever it needs
 * (ids, time, facts about other aggregates, a password hash) arrives on the command.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** A domain event as the deciders see it: its type and its validated data. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}
