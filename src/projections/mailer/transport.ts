import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../../shared/config.js';

export interface OutgoingMail {
  /** The mail's row id: names the .eml file. */
  id: string;
  /** '<id@stockroom>', the same on every attempt. */
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** Where mail goes, for logs: the SMTP host, or the directory of .eml files. */
  readonly description: string;
  /** Resolves once the mail is accepted (SMTP 250 after DATA, or the file written); throws otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * Kept well under the sender's lease (DEFAULT_LEASE_MS, 2 min), so that a send that hangs
 * fails and is retried by its own sender before another sender could take the mail over.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** SMTP when SMTP_URL is set; otherwise (the embedded default) one .eml file per mail in DATA_DIR/mail. */
export function createMailTransport(config: Pick<Config, 'SMTP_URL' | 'DATA_DIR'>): MailTransport {
  return config.SMTP_URL ? smtpTransport(config.SMTP_URL) : emlTransport(join(config.DATA_DIR, 'mail'));
}

const envelope = (mail: OutgoingMail) => ({
  messageId: mail.messageId,
  from: mail.from,
  to: mail.to,
  subject: mail.subject,
  text: mail.text,
  html: mail.html,
});

export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
  const parsed = new URL(url);
  return {
    description: `smtp ${parsed.hostname}:${parsed.port || '25'}`,
    async send(mail) {
      await transporter.sendMail(envelope(mail));
    },
    close: () => transporter.close(),
  };
}

/**
 * Writes each mail as `<id>.eml`, through a temporary file and a rename: a crash leaves no
 * half-written mail, and a mail sent again after a crash replaces its own file, so the
 * directory holds each mail once.
 */
export function emlTransport(directory: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: `files in ${directory}`,
    async send(mail) {
      const info = await transporter.sendMail(envelope(mail));
      await mkdir(directory, { recursive: true });
      const file = join(directory, `${mail.id}.eml`);
      await writeFile(`${file}.tmp`, info.message);
      await rename(`${file}.tmp`, file);
    },
    close: () => transporter.close(),
  };
}
