import { performance } from 'node:perf_hooks';

/** Kept past expiry like the stored ones, so that a process whose clock lags still refuses. */
export const KEEP_AFTER_EXPIRY_MS = 3_600_000;

/**
 * The base of a revocations mirror (Redis's, revocation-mirror.ts; PostgreSQL's,
 * postgres-revocation-mirror.ts): what it knows and how long it may be believed, the revoked
 * token ids with their expiry, whether a complete copy is loaded, and the lease a
 * confirmation grants. Each mirror brings its transport and says why its confirmation (a
 * PING, a `select 1` on the listening session) proves that it holds every revocation
 * announced before it was sent.
 *
 * `generation` moves on whenever what was confirmed no longer holds (a lost session, a
 * reload): a load or a confirmation of an older generation is dropped.
 */
export abstract class LeasedRevocations {
  private readonly revoked = new Map<string, number>();
  private generation = 0;
  private loaded = false;
  /** performance.now() when the last confirmation that came back (while loaded) was sent. */
  private confirmedFrom = Number.NEGATIVE_INFINITY;
  private confirmations = 0;

  protected constructor(private readonly leaseMs: number) {}

  /** Whether the mirror may answer for a request arriving now. */
  covers(now = performance.now()): boolean {
    return this.loaded && now - this.confirmedFrom < this.leaseMs;
  }

  has(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** A revocation made by this process, or announced: known here at once. */
  add(jti: string, expiresAt: number): void {
    this.revoked.set(jti, expiresAt);
  }

  protected get isLoaded(): boolean {
    return this.loaded;
  }

  /** Nothing confirmed holds any more; answers the new generation, for the load that follows. */
  protected invalidate(): number {
    this.generation += 1;
    this.loaded = false;
    return this.generation;
  }

  protected isCurrent(generation: number): boolean {
    return generation === this.generation;
  }

  /** A complete copy read in `generation`: believed (once confirmed) unless a newer one began. */
  protected loadedWith(generation: number, entries: Iterable<readonly [string, number]>): void {
    if (!this.isCurrent(generation)) return;
    for (const [jti, expiresAt] of entries) this.revoked.set(jti, expiresAt);
    this.prune();
    this.loaded = true;
  }

  /** A confirmation is about to be sent: what `confirmed` needs when it comes back. */
  protected confirming(): { generation: number; sent: number } {
    if (++this.confirmations % 10_000 === 0) this.prune();
    return { generation: this.generation, sent: performance.now() };
  }

  /** The confirmation sent at `sent` came back: requests within the lease of it are covered. */
  protected confirmed({ generation, sent }: { generation: number; sent: number }): void {
    if (this.isCurrent(generation) && this.loaded) this.confirmedFrom = Math.max(this.confirmedFrom, sent);
  }

  private prune(): void {
    const before = Date.now() - KEEP_AFTER_EXPIRY_MS;
    for (const [jti, expiresAt] of this.revoked) if (expiresAt < before) this.revoked.delete(jti);
  }
}
