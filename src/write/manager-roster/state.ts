/** `absent` until the roster is first needed; then the managers, in no particular order. */
export type ManagerRosterState = { status: 'absent' } | { status: 'kept'; managers: readonly string[] };

export const initialState = (): ManagerRosterState => ({ status: 'absent' });
