import pg from 'pg';

const RECONNECT_MS = 1_000;

/** What a poller needs of a NotifySignal: wake it early, or let it poll at its pace. */
export interface WakeSignal {
  readonly generation: number;
  readonly listening: boolean;
  wait(seen: number, ms: number): Promise<void>;
}

/**
 * LISTEN on one channel, as a hint that wakes pollers before their next poll. Only a hint:
 * a notification is lost while the connection is down (a poller polls all the same), and a
 * poller always reads what it waits for itself before it acts.
 */
export class NotifySignal implements WakeSignal {
  private readonly connectionString: string;
  private readonly channel: string;
  private client: pg.Client | null = null;
  private readonly waiters = new Set<() => void>();
  private count = 0;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  /** `channel`: an identifier of the code's own (it is written into LISTEN as it is). */
  constructor(connectionString: string, channel: string) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new RangeError(`not a channel name: ${channel}`);
    this.connectionString = connectionString;
    this.channel = channel;
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
      await client.query(`listen ${this.channel}`);
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
