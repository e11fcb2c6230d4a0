import { AlreadyExists } from '../../shared/errors.js';
import type { ReservationEvent } from '../../shared/events/reservation.js';
import type { ReservationCommand } from './commands.js';
import type { ReservationState } from './state.js';

/**
 * Both commands are idempotent for their owner: a handler that crashed between reserving
 * and writing the owner's own stream can simply run again.
 */
export function decide(command: ReservationCommand, state: ReservationState): ReservationEvent[] {
  switch (command.type) {
    case 'Reserve': {
      const { value, ownerId, field } = command;
      if (state.status === 'free') return [{ type: 'Reserved', data: { value, ownerId } }];
      if (state.ownerId === ownerId) return [];
      throw new AlreadyExists(field, value, field);
    }
    case 'Release':
      // Only the owner lets go; anyone else releasing is a stale retry with nothing left to do.
      if (state.status === 'held' && state.ownerId === command.ownerId) {
        return [{ type: 'Released', data: { ownerId: command.ownerId } }];
      }
      return [];
  }
}
