import { type Backoff, backoffDelayMs } from '../../../shared/backoff.js';

export type { Backoff };

/** 5 s, 10 s, 20 s … up to 10 min: an SMTP outage of hours costs a few attempts an hour. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 10 * 60_000 };

/**
 * The wait before a mail's next attempt after `attempts` failures (1 for the first), by the
 * rule every retry loop follows (src/shared/backoff.ts), so that the mails queued during
 * one outage do not all hit the server again in the same second when it is back.
 */
export const retryDelayMs = backoffDelayMs;
