import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { type Config, publicUrl } from '../../shared/config.js';
import type { EventBus } from '../../shared/event-bus/port.js';
import type { EventStore } from '../../shared/event-store/port.js';
import { ProjectionFailed } from '../postgres/projector.js';
import type { Backoff } from './outbox/backoff.js';
import { MailSender } from './outbox/sender.js';
import { CrossingRecorder } from './record.js';
import { createMailTransport, type MailTransport } from './transport.js';

/** The mailer's consumer group: it reads every event on its own, beside the projectors. */
export const MAILER_GROUP = 'stockroom-mailer';

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MailerOptions {
  /** Consumer group; tests give each their own. */
  group?: string;
  /** Instead of the one SMTP_URL / DATA_DIR choose. */
  transport?: MailTransport;
  leaseMs?: number;
  backoff?: Backoff;
  intervalMs?: number;
  historyBoundMs?: number;
}

export interface Mailer {
  stop(): Promise<void>;
}

/**
 * The `mailer` role: records crossings into low stock from the bus (its own consumer group,
 * one transaction per batch) and sends the mails they owe from a loop of its own.
 */
export async function startMailer(
  deps: { bus: EventBus; pool: DatabasePool; store: EventStore; config: Config; log: Log },
  options: MailerOptions = {},
): Promise<Mailer> {
  const { bus, pool, store, config, log } = deps;
  const transport = options.transport ?? createMailTransport(config);
  const sender = new MailSender({
    pool,
    transport,
    from: config.MAIL_FROM,
    baseUrl: publicUrl(config),
    digestSeconds: config.LOW_STOCK_DIGEST_SECONDS,
    log,
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
  });
  const recorder = new CrossingRecorder(pool, store, {
    ...(options.historyBoundMs !== undefined ? { historyBoundMs: options.historyBoundMs } : {}),
    onStuck: (failure) =>
      log.error(
        { err: failure, eventId: failure.event.id, position: failure.event.position.toString(), streamId: failure.event.streamId },
        'mailer stopped on a stream at an event it cannot read; its other streams go on (npm run projections:stuck)',
      ),
  });
  sender.start();
  const subscription = await bus.subscribe({
    group: options.group ?? MAILER_GROUP,
    onBatch: async (batch) => {
      if ((await recorder.applyBatch(batch)) > 0) sender.wake();
    },
    onError: (error) => {
      if (error instanceof ProjectionFailed) {
        log.error(
          { err: error, eventId: error.event.id, position: error.event.position.toString(), streamId: error.event.streamId },
          'mailer stopped at an event it cannot read',
        );
      } else {
        log.error({ err: error }, 'mailer batch failed; it will be applied again');
      }
    },
  });
  log.info({ via: transport.description }, 'mailer started');
  return {
    async stop() {
      await subscription.stop();
      await sender.stop();
      transport.close();
    },
  };
}

/**
 * The lowest position the mailer has recorded over its partitions (null before its first
 * batch): the embedded default's forwarder must not resume past it, or a restart would
 * skip crossings the mailer never saw.
 */
export async function mailerCheckpoint(pool: DatabasePool): Promise<bigint | null> {
  return z.bigint().nullable().parse(await pool.oneFirst(sql.unsafe`select min(through) from mail_progress`));
}
