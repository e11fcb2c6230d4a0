import type { CredentialsSource } from '../shared/auth/principal.js';
import { users } from './aggregates.js';
import type { CommandHandler } from './command-handler.js';
import { userStream } from './streams.js';

/**
 * Authentication reads the user's stream on every request, trusting what this process saw
 * of it in the last `maxAgeMs`: a password change, deletion or demotion takes effect at
 * once on the replica that wrote it, and within `maxAgeMs` on the others. (Logout is
 * immediate everywhere: it goes through the denylist.) Reading the stream every time cost
 * a database round trip on every request; see docs/benchmarks.md.
 */
export const credentialsFromStreams =
  (commands: CommandHandler, maxAgeMs = 1_000): CredentialsSource =>
  async (userId) => {
    const { state } = await commands.loadRecent(users, userStream(userId), maxAgeMs);
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
