export interface Backoff {
  /** The wait after the first failure. */
  baseMs: number;
  /** No wait is longer than this: a mail server that comes back is used within it. */
  maxMs: number;
}

/** 5 s, 10 s, 20 s … up to 10 min: an SMTP outage of hours costs a few attempts an hour. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 10 * 60_000 };

/**
 * The wait before the next attempt after `attempts` failures (1 for the first): doubling,
 * capped, and jittered over its upper half so that the mails queued during one outage do
 * not all hit the server again in the same second when it is back.
 */
export function retryDelayMs(attempts: number, backoff: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
