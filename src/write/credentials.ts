import type { CredentialsSource, UserCredentials } from '../shared/auth/principal.js';
import { isDatabaseUnreachable } from '../shared/db/unreachable.js';
import { users } from './aggregates.js';
import type { CommandHandler } from './command-handler.js';
import { userStream } from './streams.js';

/**
 * How long the last credentials read from a user's stream keep authenticating while the
 * event store cannot be reached (an outage, a restart): reads held in Redis keep answering
 * meanwhile. Bounded, because a password change or a demotion written just before the
 * outage is not seen until it ends. Logout is unaffected: it goes through the denylist.
 */
export const CREDENTIALS_DURING_OUTAGE_MS = 5 * 60_000;

/** The share of `maxAgeMs` after which a cached state in use is read again in the background. */
const REFRESH_AHEAD_AT = 0.75;

/**
 * Authentication reads the user's stream on every request, trusting what this process saw
 * of it in the last `maxAgeMs`: a password change, deletion or demotion takes effect at
 * once on the replica that wrote it, and within `maxAgeMs` on the others. (Logout is
 * immediate everywhere: it goes through the denylist.) Reading the stream every time cost
 * a database round trip on every request; see docs/benchmarks.md.
 */
export const credentialsFromStreams = (commands: CommandHandler, maxAgeMs = 1_000, outageMs = CREDENTIALS_DURING_OUTAGE_MS): CredentialsSource => {
  const lastKnown = new Map<string, { credentials: UserCredentials | null; state: unknown; at: number }>();
  // One read of a user's stream at a time: when the cached state goes stale, the requests
  // in flight then (64 on a busy connection pool) share one read instead of making one each.
  // A request that joins a read began before it came: no older than a cache hit would be.
  const reading = new Map<string, Promise<UserCredentials | null>>();
  /** `ahead`: read the stream even though the cache is still fresh (refreshAhead). */
  const lookup = async (userId: string, ahead = false): Promise<UserCredentials | null> => {
    let state;
    try {
      ({ state } = ahead ? await commands.load(users, userStream(userId)) : await commands.loadRecent(users, userStream(userId), maxAgeMs));
    } catch (error) {
      const known = lastKnown.get(userId);
      if (known && isDatabaseUnreachable(error) && Date.now() - known.at <= outageMs) return known.credentials;
      throw error;
    }
    const known = lastKnown.get(userId);
    // The same state as last time (the cache's own object): the same answer, not rebuilt.
    if (known !== undefined && known.state === state) {
      known.at = Date.now();
      return known.credentials;
    }
    const credentials: UserCredentials | null =
      state.status === 'absent'
        ? null
        : {
            userId: state.userId,
            username: state.username,
            role: state.role,
            storeIds: state.storeIds,
            active: state.status === 'active',
            credentialsVersion: state.credentialsVersion,
          };
    // Re-inserted so the oldest entry comes first; bounded like the command handler's cache.
    lastKnown.delete(userId);
    lastKnown.set(userId, { credentials, state, at: Date.now() });
    if (lastKnown.size > 50_000) lastKnown.delete(lastKnown.keys().next().value!);
    return credentials;
  };
  const source = (userId: string): Promise<UserCredentials | null> => {
    const pending = reading.get(userId);
    if (pending) return pending;
    const read = lookup(userId).finally(() => reading.delete(userId));
    reading.set(userId, read);
    return read;
  };
  /**
   * The stream read again before the cached state is too old to use, while requests are
   * still answered from it: otherwise, once every `maxAgeMs`, every request in flight waited
   * for that read (on a loaded host, a stall of the whole server). What the cache answers is
   * unchanged: never a state seen more than `maxAgeMs` ago. A failed read is left to the
   * requests that come once the state is too old (they read, and see the error, as before).
   */
  const refreshAhead = (userId: string): void => {
    const read = lookup(userId, true).finally(() => reading.delete(userId));
    read.catch(() => {});
    reading.set(userId, read);
  };
  // What lookup would answer from the command handler's cache: the same state as last time.
  source.fresh = (userId: string): UserCredentials | null | undefined => {
    const known = lastKnown.get(userId);
    const hit = known && commands.recent(userStream(userId), maxAgeMs);
    if (!known || !hit || hit.state !== known.state) return undefined;
    const now = Date.now();
    known.at = now;
    if (now - hit.verifiedAt > maxAgeMs * REFRESH_AHEAD_AT && !reading.has(userId)) refreshAhead(userId);
    return known.credentials;
  };
  return source;
};
