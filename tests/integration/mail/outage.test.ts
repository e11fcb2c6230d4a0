import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { mailQueueStatus } from '../../../src/projections/mailer/queue-status.js';
import { addItem, adjust, createStoreAndSku, createUserWithEmail, eventually, freePort, mailsTo, type MailWorld, type SmtpReceiver, sleep, startMailWorld, startSmtpReceiver } from './support.js';

/** SMTP_URL names a port where nothing listens, at first. */
const test = suite<{ world: MailWorld; port: number; smtp: SmtpReceiver | null }>('mail: SMTP down');

test.before(async (context) => {
  context.port = await freePort();
  context.smtp = null;
  context.world = await startMailWorld('mail_outage', { LOW_STOCK_DIGEST_SECONDS: '0', SMTP_URL: `smtp://127.0.0.1:${context.port}` });
  // A short back-off so that the test sees several attempts in a few seconds.
  await context.world.startMailer({}, { backoff: { baseMs: 200, maxMs: 1_000 } });
});
test.after(async ({ world, smtp }) => {
  await world.close();
  await smtp?.close();
});

test('the mail waits with its attempts counted, the projector goes on, and it is delivered once the server is up', async (context) => {
  const { world } = context;
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Outage Road');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await world.settle();
  await adjust(manager, storeId, skuId, -9);

  const failing = await eventually('failed attempts', async () => {
    const status = await mailQueueStatus(harness.db.pool);
    return status.failing === 1 ? status : undefined;
  });
  assert.is(failing.pending, 1);
  assert.is(failing.sent, 0);
  assert.type(failing.oldestPendingAt, 'string');
  await eventually('a few attempts', async () => {
    const row = z
      .object({ attempts: z.number(), last_error: z.string().nullable(), status: z.string() })
      .parse(await harness.db.pool.one(sql.unsafe`select attempts, last_error, status from mails`));
    return row.attempts >= 3 ? row : undefined;
  }).then((row) => assert.match(row.last_error ?? '', /ECONNREFUSED|connect/i));
  // /metrics carries the queue, for an alert on its age (docs/operations.md).
  const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(metrics, /^stockroom_mail_queue_failing 1$/m);
  assert.ok(Number(/^stockroom_mail_queue_oldest_seconds (\S+)$/m.exec(metrics)?.[1]) > 0, metrics);

  // The projectors are not held back: writes keep becoming readable.
  await adjust(manager, storeId, skuId, 5);
  await world.settle();

  context.smtp = await startSmtpReceiver(context.port);
  const smtp = context.smtp;
  await eventually('the delivery', async () => (mailsTo(smtp, staff.email!).length === 1 ? true : undefined), 15_000);
  await sleep(1_500);
  assert.is(mailsTo(smtp, staff.email!).length, 1);
  const status = await mailQueueStatus(harness.db.pool);
  assert.equal(status, { pending: 0, failing: 0, oldestPendingAt: null, sent: 1 });
});

test.run();
