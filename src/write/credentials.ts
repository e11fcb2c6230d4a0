import type { CredentialsSource } from '../shared/auth/principal.js';
import { users } from './aggregates.js';
import type { CommandHandler } from './command-handler.js';
import { userStream } from './streams.js';

/** Authentication reads the user's stream, caught up, on every request: a change is seen at once. */
export const credentialsFromStreams =
  (commands: CommandHandler): CredentialsSource =>
  async (userId) => {
    const { state } = await commands.load(users, userStream(userId));
    if (state.status === 'absent') return null;
    return {
      userId: state.userId,
      username: state.username,
      role: state.role,
      storeIds: state.storeIds,
      active: state.status === 'active',
      credentialsVersion: state.credentialsVersion,
    };
  };
