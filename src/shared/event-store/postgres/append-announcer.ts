import { setImmediate } from 'node:timers';
import type pg from 'pg';
import { type CommonQueryMethods, sql } from 'slonik';

/** The channel a PostgreSQL event store notifies after appends (the forwarder listens: forwarder.ts). */
export const APPENDED_CHANNEL = 'stockroom_appended';

/**
 * The announcement, a statement of its own after the appends' commit: inside an append's
 * transaction, NOTIFY's lock at commit would make the group commit's trips commit one after
 * another. synchronous_commit off for its own transaction alone (set_config's `is_local`: the
 * commit reads it before the transaction's settings are undone): a notification needs no WAL
 * flush (the appends it announces had theirs), and its listener hears it at this commit. One
 * plain SELECT, prepared once per connection on the append pool: a DO block was compiled
 * again on every call.
 */
export const ANNOUNCE_APPENDS_TEXT = "select set_config('synchronous_commit', 'off', true), pg_notify($1, '')";
export const announceAppends = (pool: pg.Pool): Promise<unknown> =>
  pool.query({ name: 'stockroom_announce_appends', text: ANNOUNCE_APPENDS_TEXT, values: [APPENDED_CHANNEL] });
export const announceAppendsSlonik = (pool: CommonQueryMethods): Promise<unknown> =>
  pool.query(sql.unsafe`select set_config('synchronous_commit', 'off', true), pg_notify(${APPENDED_CHANNEL}, '')`);

/**
 * Tells listeners that events were appended, so that a poller caught up (the forwarder, every
 * 5 ms) reads them now rather than at its next poll. A hint, never awaited by an append and
 * never failing one: a lost announcement costs the poller its usual wait. Coalesced so that
 * it costs at most one statement a round of appends: the appends answered in one turn of the
 * event loop (a group commit's trip) make one announcement, and while one is under way the
 * next waits for it, covering every append answered meanwhile.
 */
export class AppendAnnouncer {
  private scheduled = false;
  private sending = false;
  private again = false;

  constructor(private readonly send: () => Promise<unknown>) {}

  announce(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.fire);
  }

  private readonly fire = (): void => {
    this.scheduled = false;
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    this.send()
      .catch(() => {})
      .finally(() => {
        this.sending = false;
        if (this.again) {
          this.again = false;
          this.announce();
        }
      });
  };
}
