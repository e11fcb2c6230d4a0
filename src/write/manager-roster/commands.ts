/** Starts the roster with the managers the user streams name; nothing once it has started. */
export interface StartRoster {
  type: 'StartRoster';
  userIds: readonly string[];
}

export interface AddManager {
  type: 'AddManager';
  userId: string;
}

/** Refused when the user is the last manager. */
export interface RemoveManager {
  type: 'RemoveManager';
  userId: string;
}

export type ManagerRosterCommand = StartRoster | AddManager | RemoveManager;
