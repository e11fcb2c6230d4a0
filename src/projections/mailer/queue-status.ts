import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';

export interface MailQueueStatus {
  /** Mails not sent yet (waiting, being sent, or waiting for a retry). */
  pending: number;
  /** Of those, the ones that failed at least once: SMTP is down or refuses them. */
  failing: number;
  /** When the oldest mail not sent yet was formed (ISO 8601), or null when none waits. */
  oldestPendingAt: string | null;
  sent: number;
}

const statusRow = z.object({
  pending: z.bigint(),
  failing: z.bigint(),
  oldest_pending_at: z.number().nullable(),
  sent: z.bigint(),
});

/**
 * The mail queue for the cluster report. Crossings still inside their digest window are not
 * mails yet, so they do not count here.
 */
export async function mailQueueStatus(pool: DatabasePool): Promise<MailQueueStatus> {
  const row = statusRow.parse(
    await pool.one(sql.unsafe`
      select count(*) filter (where status <> 'sent') as pending,
             count(*) filter (where status <> 'sent' and attempts > 0) as failing,
             min(created_at) filter (where status <> 'sent') as oldest_pending_at,
             count(*) filter (where status = 'sent') as sent
        from mails`),
  );
  return {
    pending: Number(row.pending),
    failing: Number(row.failing),
    oldestPendingAt: row.oldest_pending_at === null ? null : new Date(row.oldest_pending_at).toISOString(),
    sent: Number(row.sent),
  };
}
