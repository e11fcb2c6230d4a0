/**
 * Decider tests as sentences, one line each:
 *
 *   spec(stockItemDecider).given([added]).when(sell(3)).then([adjusted(-3, 7)]);
 *   spec(stockItemDecider).given([added]).when(sell(99)).thenThrows(InsufficientStock);
 *
 * Every event a decider emits is also checked against the zod catalogue, so a decider
 * can never write an event that a reader would refuse.
 */
import * as assert from 'uvu/assert';
import type { Decider } from '../../src/shared/decider.js';
import { StockroomEvent } from '../../src/shared/events/index.js';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export function spec<Command, Event, State>(decider: Decider<Command, Event, State>) {
  const given = (history: readonly Event[]) => {
    const state = (): State => history.reduce((current, event) => decider.evolve(current, event), decider.initialState());
    return {
      /** The state folded from the history, to check what evolve keeps. */
      state,
      when: (command: Command) => {
        const decide = () => decider.decide(command, state());
        const then = (expected: readonly Event[]): void => {
          const emitted = decide();
          assert.equal(emitted, expected);
          emitted.forEach(assertCatalogued);
        };
        return {
          then,
          thenNothing: () => then([]),
          /** Returns the error, for checks on its fields. */
          thenThrows<E extends Error>(errorClass: ErrorClass<E>): E {
            let emitted: Event[];
            try {
              emitted = decide();
            } catch (error) {
              if (error instanceof errorClass) return error;
              throw error;
            }
            assert.unreachable(`expected ${errorClass.name}, got events ${JSON.stringify(emitted)}`);
            throw new Error('unreachable');
          },
        };
      },
    };
  };
  return { given, when: (command: Command) => given([]).when(command) };
}

function assertCatalogued(event: unknown): void {
  const parsed = StockroomEvent.safeParse(event);
  if (!parsed.success) assert.unreachable(`not in the catalogue: ${JSON.stringify(event)}\n${parsed.error.message}`);
  // Equal after parsing: nothing stripped, nothing defaulted.
  assert.equal(parsed.data, event);
}
