import pg from 'pg';
import { sql } from 'slonik';

/**
 * The channel the PostgreSQL projector notifies in every transaction that applies events
 * (delivered at commit, so a listener that wakes reads the new progress).
 */
export const READ_MODEL_CHANNEL = 'stockroom_read_model';

/** The statement a projector's transaction runs to wake the waiters of X-Min-Position. */
export const notifyReadModelMoved = () => sql.unsafe`select pg_notify(${READ_MODEL_CHANNEL}, '')`;

const RECONNECT_MS = 1_000;

/**
 * Wakes the requests that wait for the read model (X-Min-Position) as soon as a projector
 * commits events, instead of at their next poll. Only a hint: a notification is lost while
 * the connection is down (a waiter polls all the same), and a waiter always reads the
 * progress itself before it answers.
 */
export class ProgressSignal {
  private readonly connectionString: string;
  private client: pg.Client | null = null;
  private readonly waiters = new Set<() => void>();
  private count = 0;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(connectionString: string) {
    this.connectionString = connectionString;
  }

  /** Connects and listens (again after a loss, every second until it does). */
  start(): void {
    void this.connect();
  }

  /** Notifications seen so far: a waiter takes it before reading, and waits for a later one. */
  get generation(): number {
    return this.count;
  }

  /** Whether it listens now (a waiter otherwise polls at its usual pace). */
  get listening(): boolean {
    return this.client !== null;
  }

  /** Resolves at the first notification after `seen` (at once if one came already), or after `ms`. */
  wait(seen: number, ms: number): Promise<void> {
    if (this.count !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
    this.signal();
  }

  private signal(): void {
    this.count += 1;
    for (const wake of [...this.waiters]) wake();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.connectionString });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      void client.end().catch(() => {});
      if (!this.stopped && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.connect();
        }, RECONNECT_MS);
      }
    };
    client.on('notification', () => this.signal());
    client.on('error', onLost);
    client.on('end', onLost);
    try {
      await client.connect();
      await client.query(`listen ${READ_MODEL_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (lost || this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    // Whatever committed while it was not listening: waiters look again.
    this.signal();
  }
}
