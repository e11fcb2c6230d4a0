import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { z } from 'zod/v4';
import { KEEP_AFTER_EXPIRY_MS, LeasedRevocations } from './leased-revocations.js';

/** The channel every revocation is announced on, by a trigger of the table (migration 026). */
export const REVOCATIONS_CHANNEL = 'auth_revocations';

const announced = z.object({ jti: z.string(), exp: z.number() });
const revokedRows = z.array(z.object({ jti: z.string(), exp: z.number() }));

const RECONNECT_AFTER_MS = 1_000;

export interface PostgresRevocationMirrorOptions {
  /** A connection of its own is opened on it: LISTEN needs a session that stays. */
  connectionString: string;
  /** How long a confirmation covers requests, in ms (see below). */
  leaseMs: number;
  onError?: (error: unknown) => void;
}

/**
 * The revocations in this process's memory, kept current by LISTEN on the channel every
 * revocation is announced on, and believed only while a lease holds: the PostgreSQL
 * counterpart of revocation-mirror.ts (Redis), for a deployment without Redis, so that a
 * read makes one query (its own), not two.
 *
 * Why it is never late. A revocation is announced (pg_notify, by the table's trigger) in the
 * transaction that inserts it: announced if and only if committed. Its caller then waits `leaseMs` (+ margin) before it
 * answers. The mirror sends `select 1` on its listening session every `leaseMs / 4`. The
 * announcing backend signals every listener when it commits, before its caller hears the
 * commit; the listening backend, idle or not, has that signal pending before it reads the
 * next query off its socket, and sends what it was told (NotificationResponse) before the
 * ReadyForQuery that ends the query; node-postgres resolves a query at its ReadyForQuery and
 * emits notifications as they arrive. So when a `select 1` sent after a commit comes back,
 * the mirror holds that revocation. The mirror answers a request at time T only if a
 * `select 1` sent at or after T - leaseMs has come back; a request that comes after a
 * revocation answered comes `leaseMs` after its commit at least: covered. Otherwise (no
 * recent answer: PostgreSQL slow, the session lost, a reload under way) the caller queries
 * the table as before. Durations are measured with the monotonic clock of each process.
 *
 * The table is read after LISTEN (on the same session): a revocation committed before is in
 * the read, one committed after is announced, or both.
 */
export class PostgresRevocationMirror extends LeasedRevocations {
  private readonly options: PostgresRevocationMirrorOptions;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout;
  private client: pg.Client | null = null;
  private connecting = false;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private pinging = false;
  private loading = false;
  private closed = false;
  /** Sessions opened so far (tests: a lost one was replaced). */
  sessions = 0;

  constructor(options: PostgresRevocationMirrorOptions) {
    super(options.leaseMs);
    this.options = options;
    this.onError = options.onError ?? (() => {});
    const every = Math.max(5, Math.floor(options.leaseMs / 4));
    this.timer = setInterval(() => this.ping(), every).unref();
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.invalidate();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed || this.connecting) return;
    this.connecting = true;
    this.lastAttempt = performance.now();
    const generation = this.invalidate();
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: 'stockroom-revocations' });
    const lost = (error?: unknown) => {
      if (error) this.onError(error);
      if (this.client !== client) return;
      this.client = null;
      this.invalidate();
      void client.end().catch(() => {});
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (this.client === client && message.channel === REVOCATIONS_CHANNEL) this.receive(message.payload ?? '');
    });
    try {
      await client.connect();
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      this.sessions += 1;
      await client.query(`listen ${REVOCATIONS_CHANNEL}`);
      await this.load(client, generation);
    } catch (error) {
      lost(error);
    } finally {
      this.connecting = false;
    }
  }

  /** Reads the table (after LISTEN: nothing committed since can be missed). */
  private async load(client: pg.Client, generation: number): Promise<void> {
    const result = await client.query(
      `select jti::text as jti, (extract(epoch from expires_at) * 1000)::float8 as exp
         from revoked_tokens where expires_at > now() - interval '${KEEP_AFTER_EXPIRY_MS / 1000} seconds'`,
    );
    const rows = revokedRows.parse(result.rows);
    if (this.client !== client) return;
    this.loadedWith(generation, rows.map((row) => [row.jti, row.exp] as const));
  }

  private receive(text: string): void {
    try {
      const { jti, exp } = announced.parse(JSON.parse(text));
      this.add(jti, exp);
    } catch (error) {
      // Not ours to read: believe nothing until the table is read again.
      this.onError(error);
      this.reload();
    }
  }

  private reload(): void {
    const client = this.client;
    if (!client) return;
    const generation = this.invalidate();
    this.loading = true;
    // Tried again by the next ping when it fails.
    this.load(client, generation)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.loading = false;
      });
  }

  private ping(): void {
    if (this.closed || this.pinging || this.connecting) return;
    const client = this.client;
    if (!client) {
      if (performance.now() - this.lastAttempt >= RECONNECT_AFTER_MS) void this.connect();
      return;
    }
    if (!this.isLoaded) {
      // A session without its table read (a failed reload): read it again.
      if (!this.loading) this.reload();
      return;
    }
    const confirmation = this.confirming();
    this.pinging = true;
    client
      .query('select 1')
      .then(() => {
        if (this.client === client) this.confirmed(confirmation);
      })
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.pinging = false;
      });
  }
}
