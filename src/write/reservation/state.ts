/** Free when never reserved or released since; held by exactly one owner otherwise. */
export type ReservationState = { status: 'free' } | { status: 'held'; value: string; ownerId: string };

export const initialState = (): ReservationState => ({ status: 'free' });
