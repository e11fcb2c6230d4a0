import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { backoffDelayMs } from '../shared/backoff.js';
import { NotifySignal } from '../shared/db/notify-signal.js';
import type { DatabasePool } from '../shared/db/pool.js';
import type { EventBus } from '../shared/event-bus/port.js';
import type { EventStore, GapWait, Subscription } from '../shared/event-store/port.js';
import { APPENDED_CHANNEL } from '../shared/event-store/postgres/append-announcer.js';

// Any fixed number; every forwarder replica must use the same one.
const FORWARDER_LOCK = '5108260417';
const CHECKPOINT = 'forwarder';

export interface ForwarderOptions {
  store: EventStore;
  bus: EventBus;
  pool: DatabasePool;
  /** A connection of its own holds the leader lock: the lock dies with it. */
  databaseUrl: string;
  log: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Where to start instead of the stored checkpoint (the in-process bus, which forgets on restart). */
  startAfter?: () => Promise<bigint>;
  /** How often a follower tries to become the leader. */
  retryMs?: number;
  batchSize?: number;
}

export interface ForwarderStatus {
  leader: boolean;
  checkpoint: bigint;
  /** The hole in the positions the leader waits on now, if any. */
  gapWait: GapWait | null;
}

/**
 * Sends every event of the store to the bus, in position order, keyed by stream. Only one
 * replica forwards at a time: the leader holds a session advisory lock; the others retry
 * every second and take over within about a second of the leader's connection dying.
 * The checkpoint moves only after the bus acknowledged the batch, so a crash repeats
 * events (consumers ignore what they have) and never loses one.
 */
export class Forwarder {
  private stopped = false;
  private leader = false;
  private subscription: Subscription | null = null;
  private lockClient: pg.Client | null = null;
  /** The leader's wake-up: the PostgreSQL store announces appends (append-announcer.ts). */
  private appended: NotifySignal | null = null;
  private loop: Promise<void> | null = null;
  private lastCheckpoint = 0n;
  /** Wakes every wait at once when stopping. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: ForwarderOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  status(): ForwarderStatus {
    return { leader: this.leader, checkpoint: this.subscription?.checkpoint ?? this.lastCheckpoint, gapWait: this.subscription?.gapWait ?? null };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.resign('the process is stopping');
    await this.loop;
  }

  private async run(): Promise<void> {
    const retryMs = this.options.retryMs ?? 1_000;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.leader && (await this.tryLead())) await this.forward();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.log.error({ err: error }, 'forwarder failed; retrying');
        await this.resign('forwarding failed', error);
      }
      // After failures, backed off (src/shared/backoff.ts) up to 5 polls: the followers take over meanwhile.
      await this.pause(failures === 0 ? retryMs : backoffDelayMs(failures, { baseMs: retryMs, maxMs: 5 * retryMs }));
    }
  }

  private async tryLead(): Promise<boolean> {
    // Keepalive and a query timeout: a half-open socket must end the lead, not hang it.
    const client = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true, query_timeout: 5_000 });
    client.on('error', () => {});
    await client.connect();
    const { rows } = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(${FORWARDER_LOCK}) as locked`).catch(async (error: unknown) => {
      await client.end().catch(() => {});
      throw error;
    });
    if (!rows[0]?.locked) {
      await client.end().catch(() => {});
      return false;
    }
    this.lockClient = client;
    this.leader = true;
    // Losing the lock's connection means another replica may lead now: stop at once.
    client.on('end', () => void this.resign('the connection holding the leader lock ended'));
    client.on('error', (error) => void this.resign('the connection holding the leader lock failed', error));
    this.options.log.info({}, 'forwarder is the leader');
    return true;
  }

  private async forward(): Promise<void> {
    const after = this.options.startAfter ? await this.options.startAfter() : await this.readCheckpoint();
    this.lastCheckpoint = after;
    this.options.log.info({ after: after.toString() }, 'forwarding events');
    this.appended = new NotifySignal(this.options.databaseUrl, APPENDED_CHANNEL);
    this.appended.start();
    this.subscription = this.options.store.subscribe({
      after,
      batchSize: this.options.batchSize ?? 1_000,
      // Without an announcement (none heard, or a store that sends none), half of it is
      // added, on average, to the time from a command to its read: keep it short.
      idleMs: 5,
      wake: this.appended,
      onError: (error) => this.options.log.error({ err: error }, 'forwarding a batch failed; it will be sent again'),
      onEvents: async (events) => {
        if (!this.leader) throw new Error('no longer the leader');
        const through = events.at(-1)!.position;
        await this.options.bus.publish(events, through);
        await this.options.pool.query(sql.unsafe`
          insert into projection_checkpoints (name, position) values (${CHECKPOINT}, ${through.toString()}::bigint)
          on conflict (name) do update set position = excluded.position, updated_at = now()`);
        this.lastCheckpoint = through;
      },
    });
    // Hold the lead while the lock's connection answers; a dead connection ends it.
    while (this.leader && !this.stopped) {
      await this.pause(1_000);
      if (!this.stopped) await this.lockClient?.query('select 1').catch((error: unknown) => this.resign('the connection holding the leader lock stopped answering', error));
    }
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => {});
  }

  private async readCheckpoint(): Promise<bigint> {
    const position = await this.options.pool.maybeOneFirst(
      sql.unsafe`select position from projection_checkpoints where name = ${CHECKPOINT}`,
    );
    return position === null ? 0n : z.bigint().parse(position);
  }

  /** Ends the lead; `cause` says why, in the log, so a step-down is never a mystery. */
  private async resign(cause: string, error?: unknown): Promise<void> {
    const wasLeader = this.leader;
    this.leader = false;
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription) {
      this.lastCheckpoint = subscription.checkpoint;
      await subscription.stop();
    }
    const appended = this.appended;
    this.appended = null;
    await appended?.close();
    const client = this.lockClient;
    this.lockClient = null;
    await client?.end().catch(() => {});
    if (!wasLeader) return;
    const fields = { cause, ...(error === undefined ? {} : { err: error }) };
    // Stopping on purpose is news, not a warning.
    if (this.stopped) this.options.log.info(fields, `forwarder stepped down: ${cause}`);
    else this.options.log.warn(fields, `forwarder stepped down: ${cause}`);
  }
}
