/** How one retry loop backs off: its first wait and its longest. */
export interface Backoff {
  /** The wait after the first failure. */
  baseMs: number;
  /** No wait is longer than this: what comes back is used again within it. */
  maxMs: number;
}

/**
 * The wait before the next attempt after `failures` failures in a row (1 for the first),
 * the one rule of every retry loop here: doubling from `baseMs`, capped at `maxMs`, and
 * jittered over its upper half, so that the replicas (or mails, or connections) that failed
 * together do not all try again in the same instant, and none tries again at once.
 */
export function backoffDelayMs(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * For a consumer that never gives up on a batch (a projection that skipped would be worse
 * than one that waits): 100 ms doubling to 5 s, so a dependency that returns is used soon.
 */
export const REDELIVERY_BACKOFF: Backoff = { baseMs: 100, maxMs: 5_000 };
