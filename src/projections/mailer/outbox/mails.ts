import { type DatabasePool, type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod/v4';
import { newId } from '../../../shared/ids.js';
import { readModelUsers, wantsLowStockMail } from '../recipients.js';

/** A mail row as the sender works on it. */
export const mailRow = z.object({
  id: z.string(),
  message_id: z.string(),
  recipient_user_id: z.string(),
  recipient_email: z.string(),
  store_id: z.string(),
  status: z.enum(['pending', 'sending', 'sent']),
  attempts: z.number().int(),
});
export type MailRow = z.infer<typeof mailRow>;

const unsentRow = z.object({
  stream_id: z.string(),
  revision: z.bigint(),
  recipient_user_id: z.string(),
  recipient_email: z.string(),
  store_id: z.string(),
});

/** At most this many outbox rows become mails per pass; the next pass takes the rest. */
const FORM_LIMIT = 1_000;

export const messageIdOf = (mailId: string): string => `<${mailId}@stockroom>`;

/**
 * Puts the unsent outbox rows of each (recipient, store) whose oldest row has waited the
 * digest window into one new mail, in one transaction: the mail exists, with its Message-ID,
 * before anything is sent, so every later attempt sends the same message. Rows another
 * sender is forming are skipped (skip locked), never put into two mails. Answers how many
 * mails were formed.
 */
export async function formMails(pool: DatabasePool, digestSeconds: number): Promise<number> {
  return pool.transaction(async (tx) => {
    const rows = (
      await tx.any(sql.unsafe`
        select o.stream_id, o.revision, o.recipient_user_id::text as recipient_user_id, o.recipient_email, o.store_id::text as store_id
          from mail_outbox o
         where o.mail_id is null
           and (o.recipient_user_id, o.store_id) in (
                 select recipient_user_id, store_id from mail_outbox where mail_id is null
                  group by recipient_user_id, store_id
                 having min(created_at) <= now() - make_interval(secs => ${digestSeconds}))
         order by o.recipient_user_id, o.store_id, o.created_at, o.stream_id, o.revision
         limit ${FORM_LIMIT}
           for update of o skip locked`)
    ).map((raw) => unsentRow.parse(raw));
    const wanted = await stillWanted(tx, rows);
    const unwanted = rows.filter((row) => !wanted.has(`${row.recipient_user_id}/${row.store_id}`));
    if (unwanted.length > 0) {
      // Turned off (or deleted, or no longer at the store) inside the digest window: no mail.
      await tx.query(sql.unsafe`
        delete from mail_outbox o
         using unnest(${sql.array(unwanted.map((row) => row.stream_id), 'text')}::text[],
                      ${sql.array(unwanted.map((row) => row.revision.toString()), 'int8')}::bigint[],
                      ${sql.array(unwanted.map((row) => row.recipient_user_id), 'uuid')}::uuid[]) as k(stream_id, revision, user_id)
         where o.stream_id = k.stream_id and o.revision = k.revision and o.recipient_user_id = k.user_id and o.mail_id is null`);
    }
    const groups = new Map<string, z.infer<typeof unsentRow>[]>();
    for (const row of rows) {
      const email = wanted.get(`${row.recipient_user_id}/${row.store_id}`);
      if (email === undefined) continue;
      // The address as it is now: one changed inside the window gets the mail.
      row.recipient_email = email;
      const key = `${row.recipient_user_id}/${row.store_id}`;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    for (const group of groups.values()) {
      const latest = group.at(-1);
      if (!latest) continue;
      const id = newId();
      await tx.query(sql.unsafe`
        insert into mails (id, message_id, recipient_user_id, recipient_email, store_id)
        values (${id}, ${messageIdOf(id)}, ${latest.recipient_user_id}, ${latest.recipient_email}, ${latest.store_id})`);
      await tx.query(sql.unsafe`
        update mail_outbox o set mail_id = ${id}
          from unnest(${sql.array(group.map((row) => row.stream_id), 'text')}::text[],
                      ${sql.array(group.map((row) => row.revision.toString()), 'int8')}::bigint[]) as k(stream_id, revision)
         where o.stream_id = k.stream_id and o.revision = k.revision and o.recipient_user_id = ${latest.recipient_user_id}`);
    }
    return groups.size;
  });
}

const wantedRow = z.object({ user_id: z.string(), store_id: z.string(), email: z.string() });

/** The (recipient, store) pairs of these rows that still want the mail, with their address now. */
async function stillWanted(tx: DatabaseTransactionConnection, rows: readonly z.infer<typeof unsentRow>[]): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const found = await tx.any(sql.unsafe`
    select distinct k.user_id::text as user_id, k.store_id::text as store_id, u.email
      from unnest(${sql.array(rows.map((row) => row.recipient_user_id), 'uuid')}::uuid[],
                  ${sql.array(rows.map((row) => row.store_id), 'uuid')}::uuid[]) as k(user_id, store_id)
      join ${readModelUsers} u on u.id = k.user_id and ${wantsLowStockMail('u', 'k.store_id')}`);
  return new Map(found.map((raw) => wantedRow.parse(raw)).map((row) => [`${row.user_id}/${row.store_id}`, row.email]));
}

/**
 * Takes one mail that is due and not held by another sender, and holds it for `leaseMs`. A
 * mail whose sender died mid-send ('sending' with its lease run out) is due again: it is sent
 * again, with the same Message-ID.
 */
export async function claimMail(pool: DatabasePool, leaseMs: number): Promise<MailRow | null> {
  const raw = await pool.maybeOne(sql.unsafe`
    update mails m set status = 'sending', claimed_until = now() + make_interval(secs => ${leaseMs / 1000})
     where m.id = (
       select id from mails
        where status <> 'sent' and next_attempt_at <= now() and (status = 'pending' or claimed_until < now())
        order by next_attempt_at, id
        limit 1
          for update skip locked)
    returning m.id, m.message_id, m.recipient_user_id::text as recipient_user_id, m.recipient_email, m.store_id::text as store_id,
              m.status, m.attempts`);
  return raw ? mailRow.parse(raw) : null;
}

export async function markSent(pool: DatabasePool, mailId: string): Promise<void> {
  await pool.query(sql.unsafe`
    update mails set status = 'sent', sent_at = now(), claimed_until = null where id = ${mailId} and status <> 'sent'`);
}

/** Back in the queue, due after `delayMs`; the error is kept for the cluster report and logs. */
export async function markFailed(pool: DatabasePool, mailId: string, delayMs: number, error: string): Promise<void> {
  await pool.query(sql.unsafe`
    update mails
       set status = 'pending', attempts = attempts + 1, claimed_until = null, last_error = ${error.slice(0, 2_000)},
           next_attempt_at = now() + make_interval(secs => ${delayMs / 1000})
     where id = ${mailId} and status <> 'sent'`);
}
