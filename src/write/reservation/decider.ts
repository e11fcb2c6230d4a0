import type { Decider } from '../../shared/decider.js';
import type { ReservationEvent } from '../../shared/events/reservation.js';
import type { ReservationCommand } from './commands.js';
import { decide } from './decide.js';
import { evolve } from './evolve.js';
import { initialState, type ReservationState } from './state.js';

export const reservationDecider: Decider<ReservationCommand, ReservationEvent, ReservationState> = {
  decide,
  evolve,
  initialState,
};

export type { ReservationCommand } from './commands.js';
export type { ReservationEvent } from '../../shared/events/reservation.js';
export type { ReservationState } from './state.js';
