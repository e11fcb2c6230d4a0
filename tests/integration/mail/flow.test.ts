import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CrossingRecorder } from '../../../src/projections/mailer/record.js';
import { mailQueueStatus } from '../../../src/projections/mailer/queue-status.js';
import {
  addItem,
  adjust,
  createSku,
  createStoreAndSku,
  createUserWithEmail,
  eventually,
  mailCounts,
  mailsTo,
  type MailWorld,
  type SmtpReceiver,
  sleep,
  startMailWorld,
  startSmtpReceiver,
} from './support.js';

/**
 * The whole path through real services: HTTP command → event store → forwarder → Kafka →
 * the mailer's consumer group → outbox → SMTP (smtp-server) → parsed with mailparser.
 * LOW_STOCK_DIGEST_SECONDS=0: each crossing goes out at once.
 */
const test = suite<{ world: MailWorld; smtp: SmtpReceiver }>('mail: one email per crossing, to the right people');

test.before(async (context) => {
  context.smtp = await startSmtpReceiver();
  context.world = await startMailWorld('mail_flow', {
    LOW_STOCK_DIGEST_SECONDS: '0',
    SMTP_URL: context.smtp.url,
    MAIL_FROM: 'Stockroom <stock@example.com>',
    PUBLIC_URL: 'https://stock.example.com/',
  });
  await context.world.startMailer();
});
test.after(async ({ world, smtp }) => {
  await world.close();
  await smtp.close();
});

test('a crossing mails the managers and the staff of that store who have an email, once each, in mjml HTML and text', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId, code } = await createStoreAndSku(manager, 'Main <Street> & Co');
  const other = await createStoreAndSku(manager, 'Elsewhere');
  const boss = await createUserWithEmail(harness, manager, 'manager');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  const otherStaff = await createUserWithEmail(harness, manager, 'staff', [other.storeId]);
  const auditor = await createUserWithEmail(harness, manager, 'auditor', [storeId]);
  const silent = await createUserWithEmail(harness, manager, 'staff', [storeId], null);
  const gone = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  assert.is((await manager.delete(`/api/users/${gone.id}`)).statusCode, 200);
  await addItem(manager, storeId, skuId, 10);
  await world.settle();

  await adjust(staff.client, storeId, skuId, -8); // 10 → 2, threshold 3: a crossing
  const expected = [boss.email!, staff.email!];
  await eventually('two mails', async () => (smtp.received.length >= 2 ? true : undefined));
  await sleep(500); // anything more would have come by now
  assert.equal(smtp.received.map((mail) => mail.to).flat().sort(), [...expected].sort());
  for (const nobody of [otherStaff.email!, auditor.email!, gone.email!]) assert.is(mailsTo(smtp, nobody).length, 0, nobody);
  assert.ok(silent.email === null);

  const [mail] = mailsTo(smtp, staff.email!);
  const parsed = mail!.parsed;
  assert.is(parsed.subject, `Low stock at Main <Street> & Co: ${code} (2 left)`);
  assert.match(mail!.messageId, /^<[0-9a-f-]{36}@stockroom>$/);
  assert.equal(parsed.from?.value.map((from) => [from.name, from.address]), [['Stockroom', 'stock@example.com']]);
  const link = `https://stock.example.com/api/inventory/stores/${storeId}/items/${skuId}`;
  const text = parsed.text ?? '';
  for (const part of ['Main <Street> & Co', code, 'Green tea', '2 left', 'threshold 3', `changed by ${staff.username}`, link]) {
    assert.ok(text.includes(part), `text part lacks ${part}:\n${text}`);
  }
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  assert.match(html, /^<!doctype html>/i); // mjml's output, not a hand-written fragment
  assert.match(html, /mj-column-per-100/);
  assert.ok(html.includes('Main &lt;Street&gt; &amp; Co'), 'the store name is escaped in the HTML');
  assert.not.match(html, /<Street>/);
  assert.ok(html.includes(`href="${link}"`));
  assert.ok(html.includes(staff.username));

  const status = await mailQueueStatus(harness.db.pool);
  assert.equal(status, { pending: 0, failing: 0, oldestPendingAt: null, sent: 2 });
});

test('staying low mails nothing; a restock re-arms it and the next fall mails again', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Corner shop');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await world.settle();

  await adjust(manager, storeId, skuId, -7); // 3: low
  await eventually('the first mail', async () => (mailsTo(smtp, staff.email!).length === 1 ? true : undefined));
  await adjust(manager, storeId, skuId, -1); // 2: still low
  await adjust(manager, storeId, skuId, -2); // 0: still low
  await world.settle();
  await sleep(1_000);
  assert.is(mailsTo(smtp, staff.email!).length, 1, 'staying low sends nothing');

  await adjust(manager, storeId, skuId, 2); // 2: a restock that stays low re-arms nothing
  await adjust(manager, storeId, skuId, 8); // 10: above, re-armed
  await adjust(manager, storeId, skuId, -9); // 1: a new crossing
  await eventually('the second mail', async () => (mailsTo(smtp, staff.email!).length === 2 ? true : undefined));
  await sleep(500);
  const mails = mailsTo(smtp, staff.email!);
  assert.is(mails.length, 2);
  assert.match(mails[1]!.parsed.subject ?? '', /\(1 left\)$/);
  assert.is.not(mails[0]!.messageId, mails[1]!.messageId);
});

test('an event delivered twice, or the whole stream replayed, mails nothing more', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Twice');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 5);
  await world.settle();
  await adjust(manager, storeId, skuId, -4);
  await eventually('the mail', async () => (mailsTo(smtp, staff.email!).length === 1 ? true : undefined));
  const before = await mailCounts(world);

  // The same events again, as the bus redelivers them after a crash before its commit.
  const events = await harness.eventStore.readStream(`stockitem-${storeId}_${skuId}`);
  const recorder = new CrossingRecorder(harness.db.pool, harness.eventStore);
  const through = events.at(-1)!.position;
  assert.is(await recorder.applyBatch({ events, partition: 0, through }), 0);
  assert.is(await recorder.applyBatch({ events: events.slice(-1), partition: 0, through }), 0);
  await sleep(1_000);
  assert.equal(await mailCounts(world), before);
  assert.is(mailsTo(smtp, staff.email!).length, 1);
});

test('opting out with PATCH /api/auth/me {lowStockEmails: false} stops the mails for that user only; true brings them back', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Quiet');
  const second = await createSku(manager);
  const keen = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  const quiet = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  const off = await quiet.client.patch('/api/auth/me', { lowStockEmails: false });
  assert.is(off.statusCode, 200, off.body);
  assert.is(off.json<{ lowStockEmails: boolean }>().lowStockEmails, false);
  assert.is((await quiet.client.get('/api/auth/me')).json<{ lowStockEmails: boolean }>().lowStockEmails, false);
  assert.is((await manager.get(`/api/users/${keen.id}`)).json<{ lowStockEmails: boolean }>().lowStockEmails, true);
  await addItem(manager, storeId, skuId, 10);
  await addItem(manager, storeId, second.skuId, 10);
  await world.settle();

  await adjust(manager, storeId, skuId, -9);
  await eventually('the mail to the keen one', async () => (mailsTo(smtp, keen.email!).length === 1 ? true : undefined));
  await sleep(500);
  assert.is(mailsTo(smtp, quiet.email!).length, 0);

  const on = await quiet.client.patch('/api/auth/me', { lowStockEmails: true });
  assert.is(on.json<{ lowStockEmails: boolean }>().lowStockEmails, true);
  await world.settle();
  await adjust(manager, storeId, second.skuId, -9);
  await eventually('the mail to the one back in', async () => (mailsTo(smtp, quiet.email!).length === 1 ? true : undefined));
});

test.run();
