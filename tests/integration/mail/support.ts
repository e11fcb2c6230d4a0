import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { sql } from 'slonik';
import { SMTPServer } from 'smtp-server';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { Forwarder } from '../../../src/projections/forwarder.js';
import { type Mailer, type MailerOptions, startMailer } from '../../../src/projections/mailer/run.js';
import { loadConfig } from '../../../src/shared/config.js';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { startPostgresProjector } from '../../../src/projections/postgres/run.js';
import type { KafkaBus } from '../../../src/shared/event-bus/kafka.js';
import { type Client, type Harness, login, startHarness, ADMIN } from '../../support/app.js';
import { unique } from '../../support/http-assertions.js';
import { testBus } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` answers something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A free TCP port on this machine, with nothing listening on it (yet). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface ReceivedMail {
  parsed: ParsedMail;
  to: string[];
  messageId: string;
}

export interface SmtpReceiver {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** Messages that came in whole but whose DATA was never answered (holdReplies). */
  held: ReceivedMail[];
  /** From now on, the reply to DATA is held back (the sender waits, as for a slow server). */
  holdReplies(): void;
  /** From now on, DATA is answered again. */
  answerReplies(): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1: it parses each message with mailparser's
 * simpleParser and keeps it. No STARTTLS: nodemailer would try it against a self-signed
 * certificate, which has nothing to do with what these tests check.
 */
export async function startSmtpReceiver(port = 0): Promise<SmtpReceiver> {
  let holding = false;
  const held: (() => void)[] = [];
  const receiver: SmtpReceiver = {
    port: 0,
    url: '',
    received: [],
    held: [],
    holdReplies: () => {
      holding = true;
    },
    answerReplies: () => {
      holding = false;
    },
    close: async () => {
      for (const release of held) release();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      void simpleParser(stream).then(
        (parsed) => {
          const mail = { parsed, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), messageId: parsed.messageId ?? '' };
          if (holding) {
            // Not answered: the sender sits waiting for the 250 after DATA, as it would
            // when it dies after the server has the message but before it knows.
            receiver.held.push(mail);
            held.push(() => callback(new Error('shutting down')));
            return;
          }
          receiver.received.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no SMTP port');
  receiver.port = address.port;
  receiver.url = `smtp://127.0.0.1:${address.port}`;
  return receiver;
}

/** The mails received so far for one address. */
export const mailsTo = (smtp: SmtpReceiver, address: string): ReceivedMail[] => smtp.received.filter((mail) => mail.to.includes(address));

export interface MailWorld {
  harness: Harness;
  manager: Client;
  bus: KafkaBus;
  mailer: Mailer | null;
  /** The consumer group of this world's mailers. */
  group: string;
  startMailer(config?: Record<string, string>, options?: MailerOptions): Promise<Mailer>;
  /** Waits until the read model has applied everything written so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The API on a database of its own, with forwarder and projector on a Kafka topic of its
 * own, and a mailer (when started) on that topic. Every consumer group is this world's own:
 * a Kafka group shared with another test run (even on another topic) would hand this
 * topic's partitions to that run's members.
 */
export async function startMailWorld(label: string, env: Record<string, string> = {}): Promise<MailWorld> {
  const harness = await startHarness(label, env);
  await ensureReadModelSchema(harness.db.url);
  const bus = testBus(label);
  await bus.ensureTopic();
  const log = process.env.MAIL_TEST_LOG ? { info() {}, warn: console.warn, error: console.error } : quietLog;
  const suffix = randomBytes(3).toString('hex');
  const projector = await startPostgresProjector({ bus, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, log, group: `stockroom-test-projector-${suffix}` });
  const forwarder = new Forwarder({ store: harness.eventStore, bus, pool: harness.db.pool, databaseUrl: harness.db.url, log, retryMs: 200 });
  forwarder.start();
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const world: MailWorld = {
    harness,
    manager,
    bus,
    mailer: null,
    group: `stockroom-test-mailer-${suffix}`,
    async startMailer(config = {}, options = {}) {
      world.mailer = await startMailer(
        { bus, pool: harness.db.pool, store: harness.eventStore, config: loadConfig({ NODE_ENV: 'test', ...env, ...config }), log },
        { group: world.group, intervalMs: 100, ...options },
      );
      return world.mailer;
    },
    async settle() {
      const head = await harness.eventStore.headPosition();
      let through: bigint | null = null;
      await eventually(`the read model to reach ${head}`, async () => {
        through = z.bigint().nullable().parse(await harness.db.pool.oneFirst(sql.unsafe`select min(through) from read_model.progress`));
        return through !== null && through >= head ? true : undefined;
      }).catch((error: Error) => {
        throw new Error(`${error.message} (at ${through})`);
      });
    },
    async close() {
      await world.mailer?.stop();
      await projector.stop();
      await forwarder.stop();
      await bus.close();
      await harness.close();
    },
  };
  return world;
}

/** A store and a SKU; answers their ids and names. */
export async function createStoreAndSku(manager: Client, storeName: string, lowStockThreshold = 3) {
  const store = await manager.post('/api/stores', { name: storeName });
  assert.is(store.statusCode, 201, store.body);
  const code = unique('TEA-');
  const sku = await manager.post('/api/skus', { code, name: 'Green tea', lowStockThreshold });
  assert.is(sku.statusCode, 201, sku.body);
  return { storeId: store.json<{ id: string }>().id, skuId: sku.json<{ id: string }>().id, code };
}

export async function createSku(manager: Client, lowStockThreshold = 3, name = 'Green tea') {
  const code = unique('SKU-');
  const sku = await manager.post('/api/skus', { code, name, lowStockThreshold });
  assert.is(sku.statusCode, 201, sku.body);
  return { skuId: sku.json<{ id: string }>().id, code };
}

export async function addItem(manager: Client, storeId: string, skuId: string, quantity: number): Promise<void> {
  const response = await manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity });
  assert.is(response.statusCode, 201, response.body);
}

export async function adjust(client: Client, storeId: string, skuId: string, delta: number): Promise<void> {
  const response = await client.patch(`/api/inventory/stores/${storeId}/items/${skuId}`, { delta, reason: delta < 0 ? 'sold' : 'received' });
  assert.is(response.statusCode, 200, response.body);
}

/** A user through the API, with an email; logged in. */
export async function createUserWithEmail(
  harness: Harness,
  manager: Client,
  role: 'manager' | 'staff' | 'auditor',
  storeIds: string[] = [],
  email: string | null = `${unique('u')}@example.com`,
) {
  const username = unique(role);
  const response = await manager.post('/api/users', { username, password: 'user-password-1', role, storeIds, email });
  assert.is(response.statusCode, 201, response.body);
  return { id: response.json<{ id: string }>().id, username, email, client: await login(harness, username, 'user-password-1') };
}

/** Counts of the mail tables, to prove that nothing more was queued. */
export async function mailCounts(world: Pick<MailWorld, 'harness'>) {
  const row = z
    .object({ crossings: z.bigint(), outbox: z.bigint(), mails: z.bigint() })
    .parse(
      await world.harness.db.pool.one(sql.unsafe`
        select (select count(*) from mail_crossings) as crossings, (select count(*) from mail_outbox) as outbox,
               (select count(*) from mails) as mails`),
    );
  return { crossings: Number(row.crossings), outbox: Number(row.outbox), mails: Number(row.mails) };
}
