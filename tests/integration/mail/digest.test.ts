import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addItem, adjust, createSku, createStoreAndSku, createUserWithEmail, eventually, mailsTo, type MailWorld, type SmtpReceiver, sleep, startMailWorld, startSmtpReceiver } from './support.js';

/** LOW_STOCK_DIGEST_SECONDS=3: the crossings of one store within it make one email per recipient. */
const test = suite<{ world: MailWorld; smtp: SmtpReceiver }>('mail: digests');

test.before(async (context) => {
  context.smtp = await startSmtpReceiver();
  context.world = await startMailWorld('mail_digest', { LOW_STOCK_DIGEST_SECONDS: '3', SMTP_URL: context.smtp.url });
  await context.world.startMailer();
});
test.after(async ({ world, smtp }) => {
  await world.close();
  await smtp.close();
});

test('three items of one store crossing within the window make one digest; another store gets its own mail', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId, code } = await createStoreAndSku(manager, 'Digest Street');
  const other = await createStoreAndSku(manager, 'Other Street');
  const second = await createSku(manager);
  const third = await createSku(manager);
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  const boss = await createUserWithEmail(harness, manager, 'manager');
  for (const sku of [skuId, second.skuId, third.skuId]) await addItem(manager, storeId, sku, 10);
  await addItem(manager, other.storeId, other.skuId, 10);
  await world.settle();

  await adjust(manager, storeId, skuId, -8);
  await adjust(manager, storeId, second.skuId, -9);
  await adjust(manager, other.storeId, other.skuId, -10);
  await adjust(manager, storeId, third.skuId, -10);
  await eventually('the digests', async () => (mailsTo(smtp, boss.email!).length >= 2 && mailsTo(smtp, staff.email!).length >= 1 ? true : undefined));
  await sleep(4_000); // past another window: nothing else comes
  const staffMails = mailsTo(smtp, staff.email!);
  assert.is(staffMails.length, 1);
  const digest = staffMails[0]!.parsed;
  assert.is(digest.subject, 'Low stock at Digest Street: 3 items');
  for (const part of [code, second.code, third.code, '2 left', '1 left', '0 left']) assert.ok((digest.text ?? '').includes(part), part);
  const bossSubjects = mailsTo(smtp, boss.email!).map((mail) => mail.parsed.subject).sort();
  assert.equal(bossSubjects, ['Low stock at Digest Street: 3 items', `Low stock at Other Street: ${other.code} (0 left)`]);
});

test('turning the emails off inside the window cancels what was queued for that user; a changed address gets the mail', async ({ world, smtp }) => {
  const { harness, manager } = world;
  const { storeId, skuId } = await createStoreAndSku(manager, 'Opt-out Lane');
  const quitter = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  const mover = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await world.settle();

  await adjust(manager, storeId, skuId, -9); // a crossing: both are owed a mail, in 3 s
  const off = await quitter.client.patch('/api/auth/me', { lowStockEmails: false });
  assert.is(off.statusCode, 200, off.body);
  const moved = await manager.patch(`/api/users/${mover.id}`, { email: `moved-${mover.email!}` });
  assert.is(moved.statusCode, 200, moved.body);
  await world.settle();

  await eventually('the mail to the new address', async () => (mailsTo(smtp, `moved-${mover.email!}`).length >= 1 ? true : undefined));
  await sleep(1_000);
  assert.is(mailsTo(smtp, quitter.email!).length, 0, 'no mail after turning them off');
  assert.is(mailsTo(smtp, mover.email!).length, 0, 'nothing to the old address');
});

test.run();
