import { sql } from 'slonik';
import type { DatabasePool } from '../db/pool.js';

/**
 * Tokens revoked before they expire (logout). Checked on every request, so that a
 * revoked token is refused at once, by every replica, and after a restart.
 */
export interface TokenDenylist {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

export class PostgresTokenDenylist implements TokenDenylist {
  constructor(private readonly pool: DatabasePool) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
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
