import type { ReservationEvent } from '../../shared/events/reservation.js';
import type { ReservationState } from './state.js';

export function evolve(_state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'Reserved':
      return { status: 'held', value: event.data.value, ownerId: event.data.ownerId };
    case 'Released':
      return { status: 'free' };
  }
}
