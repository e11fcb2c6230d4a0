import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { CrossingRecorder } from '../../../src/projections/mailer/record.js';
import type { BusSubscription } from '../../../src/shared/event-bus/port.js';
import { addItem, adjust, createStoreAndSku, createUserWithEmail, eventually, mailsTo, type MailWorld, type SmtpReceiver, sleep, startMailWorld, startSmtpReceiver } from './support.js';

/**
 * The mailer as its own process (`tsx src/main.ts`, ROLES=mailer), killed with SIGKILL while
 * the SMTP server holds back its reply to DATA: the server has the message, the mailer never
 * learned it. A second mailer process sends it again, once, with the same Message-ID.
 *
 * The crossings are recorded in this process (a CrossingRecorder on the test's own Kafka
 * topic); the child processes only send from the outbox. They run without KAFKA_BROKERS, on
 * the in-process bus: main.ts reads the fixed topic `stockroom.events`, which this test must
 * not share with anything else on the broker.
 */
const test = suite<{ world: MailWorld; smtp: SmtpReceiver; recording: BusSubscription; dataDir: string; children: ChildProcess[] }>('mail: a mailer killed mid-send');

test.before(async (context) => {
  context.smtp = await startSmtpReceiver();
  context.world = await startMailWorld('mail_crash', { LOW_STOCK_DIGEST_SECONDS: '0' });
  const recorder = new CrossingRecorder(context.world.harness.db.pool, context.world.harness.eventStore);
  context.recording = await context.world.bus.subscribe({ group: context.world.group, onBatch: async (batch) => void (await recorder.applyBatch(batch)) });
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-mail-crash-'));
  context.children = [];
});
test.after(async ({ world, smtp, recording, dataDir, children }) => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await recording.stop();
  await world.close();
  await smtp.close();
  await rm(dataDir, { recursive: true, force: true });
});

function startMailerProcess(context: { world: MailWorld; smtp: SmtpReceiver; dataDir: string; children: ChildProcess[] }): { child: ChildProcess; output: () => string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ROLES: 'mailer',
    DATABASE_URL: context.world.harness.db.url,
    // Processes on a shared database must share the token secret (main.ts refuses otherwise).
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123456789',
    SMTP_URL: context.smtp.url,
    LOW_STOCK_DIGEST_SECONDS: '0',
    DATA_DIR: context.dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  for (const name of ['KAFKA_BROKERS', 'REDIS_URL', 'NODE_ENV']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk) => (output += chunk.toString()));
  context.children.push(child);
  return { child, output: () => output };
}

const mailRow = z.object({ message_id: z.string(), status: z.string(), attempts: z.number() });

test('no mail is lost, and the copy sent again carries the first one’s Message-ID', async (context) => {
  const { world, smtp } = context;
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Crash Lane');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await world.settle();

  smtp.holdReplies();
  const first = startMailerProcess(context);
  await adjust(manager, storeId, skuId, -9);
  const held = await eventually('the first mailer to be waiting for the reply to DATA', async () => smtp.held[0], 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${first.output()}`);
  });
  const during = mailRow.parse(await harness.db.pool.one(sql.unsafe`select message_id, status, attempts from mails`));
  assert.is(during.status, 'sending');
  assert.is(held.messageId, during.message_id);

  const killed = new Promise((resolve) => first.child.once('exit', resolve));
  first.child.kill('SIGKILL');
  await killed;
  smtp.answerReplies();

  // The first mailer's lease would run out after DEFAULT_LEASE_MS (2 min); move it to now
  // rather than wait, as if that much time had passed.
  await harness.db.pool.query(sql.unsafe`update mails set claimed_until = now() where status = 'sending'`);
  const second = startMailerProcess(context);
  await eventually('the second mailer to send it', async () => (mailsTo(smtp, staff.email!).length === 1 ? true : undefined), 60_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}\n${second.output()}`);
    },
  );
  await sleep(1_000);
  const copies = mailsTo(smtp, staff.email!);
  assert.is(copies.length, 1, 'sent again exactly once');
  assert.is(copies[0]!.messageId, held.messageId, 'with the same Message-ID');
  const after = mailRow.parse(await harness.db.pool.one(sql.unsafe`select message_id, status, attempts from mails`));
  assert.equal(after, { message_id: held.messageId, status: 'sent', attempts: 0 });

  const exited = new Promise((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGTERM');
  await exited;
});

test.run();
