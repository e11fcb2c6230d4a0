import type { DatabasePool } from 'slonik';
import { renderLowStockMail } from '../template.js';
import type { MailTransport } from '../transport.js';
import { type Backoff, DEFAULT_BACKOFF, retryDelayMs } from './backoff.js';
import { composeLowStockMail } from './compose.js';
import { claimMail, formMails, type MailRow, markFailed, markSent } from './mails.js';

/**
 * How long a sender holds a mail it claimed. Longer than the slowest send the SMTP
 * timeouts allow (transport.ts), so that only a sender that died loses its mail to another.
 */
export const DEFAULT_LEASE_MS = 2 * 60_000;

/** How often the sender looks for due mails when nobody wakes it. */
const DEFAULT_INTERVAL_MS = 1_000;

/** Claims per pass: a queue of failing mails with a tiny back-off cannot keep one pass going. */
const CLAIMS_PER_PASS = 100;

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SenderOptions {
  pool: DatabasePool;
  transport: MailTransport;
  /** MAIL_FROM. */
  from: string;
  /** publicUrl(config): links in the mails start with it. */
  baseUrl: string;
  /** LOW_STOCK_DIGEST_SECONDS. */
  digestSeconds: number;
  log: Log;
  leaseMs?: number;
  backoff?: Backoff;
  intervalMs?: number;
}

export interface PassResult {
  formed: number;
  sent: number;
  failed: number;
}

/**
 * The sending loop, apart from the bus consumer: an SMTP server that is down or slow holds
 * back only this loop, never the recording of crossings, let alone the projectors. Each pass
 * forms the mails whose digest window has passed, then claims and sends due mails one by
 * one: render, send with the mail's own Message-ID, mark sent. A failure puts the mail back
 * with a back-off; nothing is ever dropped.
 */
export class MailSender {
  private readonly leaseMs: number;
  private readonly backoff: Backoff;
  private readonly intervalMs: number;
  private running: Promise<void> | null = null;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;

  constructor(private readonly options: SenderOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Look now rather than at the next tick (crossings were just recorded). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Finishes the send in progress (so that it is marked sent), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.running;
    this.running = null;
  }

  /** One pass: form due digests, then send every due mail. */
  async pass(): Promise<PassResult> {
    const result: PassResult = { formed: await formMails(this.options.pool, this.options.digestSeconds), sent: 0, failed: 0 };
    for (let claims = 0; claims < CLAIMS_PER_PASS && !this.stopping; claims += 1) {
      const mail = await claimMail(this.options.pool, this.leaseMs);
      if (!mail) break;
      if (await this.deliver(mail)) result.sent += 1;
      else result.failed += 1;
    }
    return result;
  }

  private async deliver(mail: MailRow): Promise<boolean> {
    const { pool, transport, log } = this.options;
    try {
      const content = await renderLowStockMail(await composeLowStockMail(pool, mail, this.options.baseUrl));
      await transport.send({ id: mail.id, messageId: mail.message_id, from: this.options.from, to: mail.recipient_email, ...content });
    } catch (error) {
      const attempts = mail.attempts + 1;
      const delayMs = retryDelayMs(attempts, this.backoff);
      log.warn({ err: error, mailId: mail.id, attempts, retryInMs: delayMs, via: transport.description }, 'low-stock mail not sent; it will be retried');
      await markFailed(pool, mail.id, delayMs, error instanceof Error ? error.message : String(error));
      return false;
    }
    // Between the send and this update is the window SMTP cannot close: a crash here sends
    // the mail once more after the lease, with the same Message-ID (docs/decisions.md).
    await markSent(pool, mail.id);
    log.info({ mailId: mail.id, messageId: mail.message_id, via: transport.description }, 'low-stock mail sent');
    return true;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      try {
        await this.pass();
      } catch (error) {
        // The database is away, most likely: the next tick tries again.
        this.options.log.error({ err: error }, 'low-stock mail pass failed');
      }
      if (this.stopping || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.intervalMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
    }
  }
}
