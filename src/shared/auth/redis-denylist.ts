import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../db/pool.js';
import { assertKeepsEveryKey, execAll, isRedisReady, type Redis } from '../redis.js';
import { PostgresTokenDenylist, revocationWaitMs, type TokenDenylist } from './denylist.js';
import { KEEP_AFTER_EXPIRY_MS } from './leased-revocations.js';
import { RESYNC_MESSAGE, revocationMessage, RevocationMirror, revocationsChannel } from './revocation-mirror.js';

/** A sorted set: member jti, score = expiry in epoch milliseconds. */
export const REVOKED_TOKENS_KEY = 'auth:revoked';
/**
 * A member of the set, scored +inf, written in the same MULTI as a full copy. Redis forgets a
 * key whole (eviction, FLUSHALL, a restart), so a set without it is not the copy we made: a
 * revocation written to it since may have recreated it with nothing else in it.
 */
export const COMPLETE_MEMBER = '~complete';

export interface RedisBackedDenylistOptions {
  pool: DatabasePool;
  redis: Redis;
  /** The durable denylist, source of truth. Default: a PostgresTokenDenylist on `pool`. */
  postgres?: PostgresTokenDenylist;
  /**
   * How often to check that Redis holds every revocation PostgreSQL holds (one count on each
   * side), which catches a revocation whose Redis write failed in another process. Default
   * 1000 ms; 0 turns it off.
   */
  checkIntervalMs?: number;
  /** A failed check or copy (Redis or PostgreSQL away); the next one retries. */
  onError?: (error: unknown) => void;
  /**
   * Answer from memory (revocation-mirror.ts) while a lease of this many ms holds; each
   * revocation then waits about as long before it answers. 0 (default): every request asks Redis.
   * Every process sharing the Redis must use the same value.
   */
  mirrorLeaseMs?: number;
}

const COPY_CHUNK = 500;
const RECOUNT_AFTER_MS = 50;

const revokedRow = z.object({ jti: z.string(), expires_at: z.number() });

/**
 * The token denylist in Redis (one command per request), kept correct by PostgreSQL.
 *
 * PostgreSQL is written first and is the truth; Redis holds a copy. So Redis never holds a
 * revocation PostgreSQL lacks, and "revoked" from Redis is always right. "Not revoked" from
 * Redis is believed only while this process knows Redis holds every revocation: after each
 * (re)connection it copies every unexpired revocation from PostgreSQL before believing Redis
 * again, and it stops believing it the moment the connection closes or a write to it fails.
 * Until then, and whenever Redis errs, the answer comes from PostgreSQL. A revoked token is
 * therefore refused at every moment: Redis up, down, or back empty.
 *
 * Redis may also forget while the connection stays up: a server that evicts keys without a TTL
 * (`allkeys-*`) is never believed, and each answer reads the set's completeness marker with the
 * jti, so a set evicted or deleted between two checks is noticed by the very next request.
 *
 * A periodic check (count of unexpired revocations on both sides) covers what one process
 * cannot see by itself: a revocation made by another process whose Redis write failed while
 * this process's connection stayed up (a partition between that process and Redis, a
 * timeout), or a flushed Redis. Because Redis is a subset of PostgreSQL, equal counts mean
 * equal sets.
 */
export class RedisBackedDenylist implements TokenDenylist {
  private readonly pool: DatabasePool;
  private readonly redis: Redis;
  private readonly postgres: PostgresTokenDenylist;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout | null;
  /** Redis holds every revocation PostgreSQL holds (as far as this process can tell). */
  private trusted = false;
  /** Moves on whenever Redis may have missed a revocation: an answer begun before is not believed. */
  private epoch = 0;
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  private readonly mirror: RevocationMirror | null;
  private readonly revokeWaitMs: number;
  private readonly channel: string;

  private readonly onClose = () => this.distrust();
  private readonly onReady = () => void this.reconcile();

  constructor(options: RedisBackedDenylistOptions) {
    this.pool = options.pool;
    this.redis = options.redis;
    this.postgres = options.postgres ?? new PostgresTokenDenylist(options.pool);
    this.onError = options.onError ?? (() => {});
    this.channel = revocationsChannel(this.redis);
    const lease = options.mirrorLeaseMs ?? 0;
    this.mirror =
      lease > 0 ? new RevocationMirror({ redis: this.redis, key: REVOKED_TOKENS_KEY, completeMember: COMPLETE_MEMBER, leaseMs: lease, onError: this.onError }) : null;
    this.revokeWaitMs = lease > 0 ? revocationWaitMs(lease) : 0;
    this.redis.on('close', this.onClose);
    this.redis.on('ready', this.onReady);
    const interval = options.checkIntervalMs ?? 1_000;
    this.timer = interval > 0 ? setInterval(() => void this.reconcile(), interval).unref() : null;
    if (isRedisReady(this.redis)) void this.reconcile();
  }

  /** True once Redis answers for this process (for /readyz, metrics and tests). */
  get inSync(): boolean {
    return this.trusted && isRedisReady(this.redis);
  }

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.postgres.revoke(jti, expiresAt);
    this.mirror?.add(jti, expiresAt.getTime());
    try {
      // One transaction: a revocation in the set has been published to every mirror, and the reverse.
      await execAll(this.redis.multi().zadd(REVOKED_TOKENS_KEY, expiresAt.getTime(), jti).publish(this.channel, revocationMessage(jti, expiresAt.getTime())));
    } catch {
      // Redis may now lack a revocation PostgreSQL has: not believed until copied again.
      this.distrust();
      void this.reconcile();
      return;
    }
    // Until every mirror's lease has moved past the publication, one may still answer without
    // it: the revocation is not done before then (revocation-mirror.ts says why this suffices).
    if (this.revokeWaitMs > 0) await new Promise((resolve) => setTimeout(resolve, this.revokeWaitMs));
  }

  revokedNow(jti: string): boolean | undefined {
    // From memory while its lease holds: no round trip (revocation-mirror.ts).
    return this.mirrored ? this.mirror!.has(jti) : undefined;
  }

  async isRevoked(jti: string): Promise<boolean> {
    const known = this.revokedNow(jti);
    if (known !== undefined) return known;
    if (this.trusted && isRedisReady(this.redis)) {
      const epoch = this.epoch;
      try {
        const [score, complete] = await this.redis.zmscore(REVOKED_TOKENS_KEY, jti, COMPLETE_MEMBER);
        if (score !== null) return true;
        if (complete === null) {
          // The copy is gone (evicted, flushed): PostgreSQL answers until it is made again.
          this.distrust();
          void this.reconcile();
          return this.postgres.isRevoked(jti);
        }
        // Absent is believed only if nothing happened to Redis while we asked.
        if (this.trusted && epoch === this.epoch) return false;
      } catch {
        // Slow or away: PostgreSQL answers, this time and until a check finds Redis well again
        // (so that a Redis that hangs costs one request its timeout, not every request).
        this.distrust();
        void this.reconcile();
      }
    }
    return this.postgres.isRevoked(jti);
  }

  /** Waits for the check or copy under way, or runs one (tests and start-up). */
  sync(): Promise<void> {
    return this.reconcile();
  }

  /** True while requests are answered from memory (tests). */
  get mirrored(): boolean {
    return this.mirror !== null && this.trusted && this.mirror.covers();
  }

  close(): void {
    this.mirror?.close();
    if (this.timer) clearInterval(this.timer);
    this.redis.off('close', this.onClose);
    this.redis.off('ready', this.onReady);
    this.distrust();
  }

  private distrust(): void {
    this.trusted = false;
    this.epoch += 1;
  }

  /** One check at a time; a request for another while one runs runs it again afterwards. */
  private reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.reconcileAgain = false;
        await this.reconcileOnce().catch(this.onError);
      } while (this.reconcileAgain);
    })().finally(() => {
      this.reconciling = null;
    });
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (!isRedisReady(this.redis)) return;
    try {
      await assertKeepsEveryKey(this.redis);
    } catch (error) {
      this.distrust();
      throw error;
    }
    if (this.trusted) {
      if (await this.sameCount()) return;
      // A revocation between its PostgreSQL commit and its Redis write looks the same for a
      // moment: look again before copying everything.
      await new Promise((resolve) => setTimeout(resolve, RECOUNT_AFTER_MS));
      if (await this.sameCount()) return;
      // Redis lacks something: a write that failed in another process, or a flush.
      this.distrust();
    }
    const epoch = this.epoch;
    await this.copyFromPostgres();
    // Believed only if no close and no failed write happened since the copy began.
    if (epoch === this.epoch) this.trusted = true;
    else this.reconcileAgain = true;
  }

  /** Unexpired revocations, counted on both sides at the same cutoff (the marker, at +inf, left out). */
  private async sameCount(): Promise<boolean> {
    const cutoff = Date.now();
    const [inPostgres, inRedis] = await Promise.all([
      this.pool.oneFirst(sql.unsafe`select count(*) from revoked_tokens where expires_at > ${new Date(cutoff).toISOString()}`),
      this.redis.zcount(REVOKED_TOKENS_KEY, `(${cutoff}`, '(+inf'),
    ]);
    return Number(z.bigint().parse(inPostgres)) === inRedis;
  }

  private async copyFromPostgres(): Promise<void> {
    const rows = z
      .array(revokedRow)
      .parse(await this.pool.any(sql.unsafe`select jti, expires_at from revoked_tokens where expires_at > now()`));
    // One transaction: Redis evicts before a command, never inside EXEC, so the marker lands
    // with every member or not at all.
    const multi = this.redis.multi();
    for (let start = 0; start < rows.length; start += COPY_CHUNK) {
      multi.zadd(REVOKED_TOKENS_KEY, ...rows.slice(start, start + COPY_CHUNK).flatMap((row) => [row.expires_at, row.jti]));
    }
    multi.zadd(REVOKED_TOKENS_KEY, '+inf', COMPLETE_MEMBER);
    multi.zremrangebyscore(REVOKED_TOKENS_KEY, '-inf', Date.now() - KEEP_AFTER_EXPIRY_MS);
    // The set was rewritten without a message per member: every mirror reads it again.
    multi.publish(this.channel, RESYNC_MESSAGE);
    await execAll(multi);
  }
}
