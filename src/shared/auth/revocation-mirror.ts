import { z } from 'zod/v4';
import { isRedisReady, type Redis } from '../redis.js';
import { LeasedRevocations } from './leased-revocations.js';

/** The channel revocations are published on (ioredis does not prefix channels: the key prefix is added here). */
export const revocationsChannel = (redis: Redis): string => `${redis.options.keyPrefix ?? ''}auth:revocations`;

/** A revocation (jti, expiry in epoch ms), or `resync`: the set was rewritten, read it again. */
const message = z.union([z.object({ jti: z.string(), exp: z.number() }), z.object({ resync: z.literal(true) })]);
export const revocationMessage = (jti: string, expiresAt: number): string => JSON.stringify({ jti, exp: expiresAt });
export const RESYNC_MESSAGE = JSON.stringify({ resync: true });

const revokedMembers = z.array(z.string());

export interface RevocationMirrorOptions {
  /** The command client; the mirror subscribes on a duplicate of it. */
  redis: Redis;
  /** The sorted set of revocations (member jti, score expiry ms), as RedisBackedDenylist keeps it. */
  key: string;
  /** The member that marks the set a complete copy (not a revocation): a set without it is not read. */
  completeMember: string;
  /**
   * How long a confirmation covers requests, in ms. A revocation waits this long (plus
   * margin) before it answers, so that every mirror's coverage has moved past it.
   */
  leaseMs: number;
  onError?: (error: unknown) => void;
}

/**
 * The revocations in this process's memory, kept current by a Redis subscription, and
 * believed only while a lease holds: so that a point read needs no Redis round trip for the
 * denylist, and a revoked token is still refused by every process once the revocation has
 * answered.
 *
 * Why it is never late. A revocation is written to the set and published in one MULTI, then
 * its caller waits `leaseMs` (+ margin) before answering. Each mirror PINGs on its subscriber
 * connection every `leaseMs / 4`: Redis answers a PING after every message it published
 * before, on the same connection, so when the PONG comes back the mirror holds every
 * revocation published before the PING was sent. The mirror answers a request at time T only
 * if a PING sent at or after T - leaseMs has come back. A request that arrives after a
 * revocation has answered comes at least `leaseMs` after its publication, so that PING was sent
 * after the publication: the mirror has it. Otherwise (no recent PONG: Redis slow or away,
 * subscription lost, a reload under way) the caller asks Redis or PostgreSQL as before.
 * Durations are measured with the monotonic clock of each process; the margin covers drift.
 *
 * The set's content before the subscription is read once after subscribing (a revocation is
 * in the set or in a message, or both: set and publish are one transaction), and again on
 * `resync` (published when the set is rewritten from PostgreSQL).
 */
export class RevocationMirror extends LeasedRevocations {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly options: RevocationMirrorOptions;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout;
  private pinging = false;
  private loading: Promise<void> | null = null;
  private closed = false;

  constructor(options: RevocationMirrorOptions) {
    super(options.leaseMs);
    this.options = options;
    this.redis = options.redis;
    this.onError = options.onError ?? (() => {});
    this.channel = revocationsChannel(options.redis);
    this.subscriber = options.redis.duplicate();
    this.subscriber.on('error', () => {});
    this.subscriber.on('close', () => this.invalidate());
    this.subscriber.on('ready', () => void this.subscribe());
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    const every = Math.max(5, Math.floor(options.leaseMs / 4));
    this.timer = setInterval(() => this.ping(), every).unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.invalidate();
    this.subscriber.disconnect();
  }

  private async subscribe(): Promise<void> {
    const generation = this.invalidate();
    try {
      await this.subscriber.subscribe(this.channel);
      await this.load(generation);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Reads the set (after subscribing: nothing published since can be missed). */
  private async load(generation: number): Promise<void> {
    if (!isRedisReady(this.redis)) throw new Error('Redis is not ready: the revocations mirror waits');
    const members = revokedMembers.parse(await this.redis.zrange(this.options.key, 0, -1, 'WITHSCORES'));
    if (!this.isCurrent(generation)) return;
    const read = new Map<string, number>();
    for (let index = 0; index + 1 < members.length; index += 2) read.set(members[index]!, Number(members[index + 1]));
    // Evicted or flushed since its copy: not believed until copied again (which publishes a resync).
    if (!read.delete(this.options.completeMember)) throw new Error('the revocations set is not a complete copy: the mirror waits for the next');
    this.loadedWith(generation, read);
  }

  private receive(text: string): void {
    let parsed: z.infer<typeof message>;
    try {
      parsed = message.parse(JSON.parse(text));
    } catch (error) {
      // Not ours to read: believe nothing until read again from the set.
      this.onError(error);
      this.resync();
      return;
    }
    if ('jti' in parsed) this.add(parsed.jti, parsed.exp);
    else this.resync();
  }

  /** Reads the set again; a load under way is not believed (it may predate the rewrite). */
  private resync(): void {
    const generation = this.invalidate();
    // Tried again by the next ping when it fails, or when a newer resync made it stale.
    const loading = this.load(generation)
      .catch(this.onError)
      .finally(() => {
        if (this.loading === loading) this.loading = null;
      });
    this.loading = loading;
  }

  private ping(): void {
    if (this.closed || this.pinging || this.subscriber.status !== 'ready') return;
    if (!this.isLoaded) {
      // A subscription without its set read (a failed or stale load): read it again.
      if (!this.loading) this.resync();
      return;
    }
    const confirmation = this.confirming();
    this.pinging = true;
    this.subscriber
      .ping()
      .then(() => this.confirmed(confirmation))
      .catch(this.onError)
      .finally(() => {
        this.pinging = false;
      });
  }
}
