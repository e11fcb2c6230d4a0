import { sql } from 'slonik';
import type { DatabasePool } from '../db/pool.js';
import { PostgresRevocationMirror } from './postgres-revocation-mirror.js';

/**
 * Tokens revoked before they expire (logout). Checked on every request, so that a
 * revoked token is refused at once, by every replica, and after a restart.
 */
export interface TokenDenylist {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  /**
   * isRevoked's answer when it comes from memory (a mirror whose lease covers this moment),
   * without a promise; undefined when it does not: call isRevoked.
   */
  revokedNow?(jti: string): boolean | undefined;
}

/** What a revocation waits beyond the lease of the mirrors: clock drift and a notification's delivery. */
const LEASE_MARGIN_MS = 25;

/** How long a revocation waits before it answers, so that every mirror's lease has moved past it. */
export const revocationWaitMs = (leaseMs: number): number => Math.ceil(leaseMs * 1.1) + LEASE_MARGIN_MS;

export class PostgresTokenDenylist implements TokenDenylist {
  constructor(private readonly pool: DatabasePool) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    // Announced by the table's trigger (migration 026) in the same transaction.
    await this.pool.query(sql.unsafe`
      insert into revoked_tokens (jti, expires_at) values (${jti}, ${expiresAt.toISOString()})
      on conflict (jti) do nothing`);
    // Rows past their expiry protect nothing; trimming here keeps the table small without a job.
    await this.pool.query(sql.unsafe`delete from revoked_tokens where expires_at < now() - interval '1 hour'`);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.pool.exists(sql.unsafe`select 1 from revoked_tokens where jti = ${jti}`);
  }
}

export interface MirroredPostgresDenylistOptions {
  pool: DatabasePool;
  /** The mirror's own session (LISTEN) is opened on it. */
  connectionString: string;
  /** Requests answered from memory while a confirmation this recent holds; each revocation waits about as long. */
  leaseMs: number;
  onError?: (error: unknown) => void;
}

/**
 * The PostgreSQL denylist answered from memory while its mirror's lease holds (no query per
 * request), for a deployment without Redis. A revocation waits out the lease before it
 * answers, so that no process's mirror can still answer without it (postgres-revocation-mirror.ts).
 * Every process sharing the database must use the same lease.
 */
export class MirroredPostgresDenylist implements TokenDenylist {
  private readonly postgres: PostgresTokenDenylist;
  private readonly mirror: PostgresRevocationMirror;
  private readonly revokeWaitMs: number;

  constructor(options: MirroredPostgresDenylistOptions) {
    this.postgres = new PostgresTokenDenylist(options.pool);
    this.mirror = new PostgresRevocationMirror({
      connectionString: options.connectionString,
      leaseMs: options.leaseMs,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.revokeWaitMs = revocationWaitMs(options.leaseMs);
  }

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.postgres.revoke(jti, expiresAt);
    this.mirror.add(jti, expiresAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, this.revokeWaitMs));
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.revokedNow(jti) ?? this.postgres.isRevoked(jti);
  }

  revokedNow(jti: string): boolean | undefined {
    return this.mirror.covers() ? this.mirror.has(jti) : undefined;
  }

  /** True while requests are answered from memory (tests). */
  get mirrored(): boolean {
    return this.mirror.covers();
  }

  /** Sessions its mirror has opened (tests). */
  get sessions(): number {
    return this.mirror.sessions;
  }

  close(): Promise<void> {
    return this.mirror.close();
  }
}
