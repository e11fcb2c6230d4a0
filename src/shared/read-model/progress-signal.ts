import { sql } from 'slonik';
import { NotifySignal } from '../db/notify-signal.js';

/**
 * The channel the PostgreSQL projector notifies in every transaction that applies events
 * (delivered at commit, so a listener that wakes reads the new progress).
 */
export const READ_MODEL_CHANNEL = 'stockroom_read_model';

/** The statement a projector's transaction runs to wake the waiters of X-Min-Position. */
export const notifyReadModelMoved = () => sql.unsafe`select pg_notify(${READ_MODEL_CHANNEL}, '')`;

/**
 * Wakes the requests that wait for the read model (X-Min-Position) as soon as a projector
 * commits events, instead of at their next poll; a waiter always reads the progress itself
 * before it answers.
 */
export class ProgressSignal extends NotifySignal {
  constructor(connectionString: string) {
    super(connectionString, READ_MODEL_CHANNEL);
  }
}
