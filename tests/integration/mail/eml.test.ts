import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type Background, startBackground } from '../../../src/background.js';
import { loadConfig } from '../../../src/shared/config.js';
import { InProcessBus } from '../../../src/shared/event-bus/in-process.js';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';
import { quietLog } from '../../support/pipeline.js';
import { addItem, adjust, createStoreAndSku, createUserWithEmail, eventually } from './support.js';

/**
 * The embedded default: no SMTP_URL, no KAFKA_BROKERS. The roles start as main.ts starts
 * them (startBackground, in-process bus, ROLES with mailer) and each mail becomes an .eml
 * file in DATA_DIR/mail.
 */
const test = suite<{ harness: Harness; background: Background; dataDir: string }>('mail: .eml files in the embedded default');

test.before(async (context) => {
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-mail-eml-'));
  const env = { DATA_DIR: context.dataDir, LOW_STOCK_DIGEST_SECONDS: '0', PUBLIC_URL: 'http://shop.local:8080' };
  context.harness = await startHarness('mail_eml', env);
  context.background = await startBackground({
    config: loadConfig({ NODE_ENV: 'test', ROLES: 'forwarder,projector,mailer', ...env }),
    pool: context.harness.db.pool,
    databaseUrl: context.harness.db.url,
    eventStore: context.harness.eventStore,
    bus: new InProcessBus(),
    log: quietLog,
  });
});
test.after(async ({ harness, background, dataDir }) => {
  await background.stop();
  await harness.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('a crossing writes one parseable .eml file per recipient, named by the mail and carrying its Message-ID', async ({ harness, dataDir }) => {
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId, code } = await createStoreAndSku(manager, 'Embedded & Sons');
  const staff = await createUserWithEmail(harness, manager, 'staff', [storeId]);
  await addItem(manager, storeId, skuId, 10);
  await eventually('the read model to know the staff member', async () =>
    (await manager.get(`/api/users?q=${staff.username}`)).json<{ items: unknown[] }>().items.length === 1 ? true : undefined,
  );
  await adjust(manager, storeId, skuId, -10);

  const directory = path.join(dataDir, 'mail');
  const files = await eventually('an .eml file', async () => {
    const names = await readdir(directory).catch(() => [] as string[]);
    const emls = names.filter((name) => name.endsWith('.eml'));
    return emls.length > 0 ? emls : undefined;
  });
  assert.is(files.length, 1);
  const file = files[0]!;
  const parsed = await simpleParser(await readFile(path.join(directory, file)));
  assert.is(parsed.messageId, `<${file.replace(/\.eml$/, '')}@stockroom>`);
  assert.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((to) => to.address) : [], [staff.email]);
  assert.is(parsed.subject, `Low stock at Embedded & Sons: ${code} (0 left)`);
  assert.ok((parsed.text ?? '').includes(`http://shop.local:8080/api/inventory/stores/${storeId}/items/${skuId}`));
  assert.match(typeof parsed.html === 'string' ? parsed.html : '', /Embedded &amp; Sons/);
  assert.is((await readdir(directory)).filter((name) => name.endsWith('.tmp')).length, 0, 'no half-written file');
});

test.run();
