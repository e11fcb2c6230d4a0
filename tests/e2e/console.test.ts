import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type ConsoleMessage, type Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../src/app.js';
import { startHeartbeat } from '../../src/ops/heartbeat.js';
import { type Background, startBackground } from '../../src/background.js';
import { CONSOLE_CSP } from '../../src/read/console/plugin.js';
import { loadConfig } from '../../src/shared/config.js';
import { createAppendPool } from '../../src/shared/db/pool.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { ensureFirstManager } from '../../src/write/first-manager.js';
import { ADMIN, type Client, type Harness, login, seedStore } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { testBus } from '../support/kafka.js';
import { quietLog } from '../support/pipeline.js';

/**
 * The console in a real browser (Debian's chromium through playwright-core) against one
 * process with every role on a real port: the page, the API and /ws as a manager uses them.
 * Screenshots of each page go to test-results/console/ (git-ignored).
 */

const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
const SHOTS = path.resolve('test-results/console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Generous: a live change is expected in well under a second; the bound only stops a hung test. */
const LIVE_WAIT_MS = 5_000;

interface Context {
  harness: Harness;
  background: Background;
  base: string;
  manager: Client;
  seeded: Awaited<ReturnType<typeof seedStore>>;
  otherStoreId: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors the browser reported. */
  errors: { text: string; url: string }[];
  dataDir: string;
}

const test = suite<Context>('console in a browser');

test.before(async (ctx) => {
  const label = 'console';
  const db = await createTestDatabase(label);
  const appendPool = createAppendPool(db.url);
  const eventStore = new PostgresEventStore(db.pool, appendPool);
  ctx.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-console-'));
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET, DATA_DIR: ctx.dataDir, ROLES: 'write-api,read-api,notifier,forwarder,projector' });
  const background = await startBackground({
    config,
    pool: db.pool,
    databaseUrl: db.url,
    eventStore,
    bus: testBus(label),
    log: quietLog,
    groupSuffix: `${label}-${randomBytes(3).toString('hex')}`,
  });
  const app = await buildApp({
    config,
    pool: db.pool,
    eventStore,
    jwtSecret: JWT_SECRET,
    logger: false,
    live: background.notifier,
    forwarder: background.forwarder ? () => background.forwarder!.status() : null,
  });
  await ensureFirstManager(app.commands, ADMIN);
  // As src/main.ts does: the cluster report lists processes from their heartbeats.
  const heartbeat = await startHeartbeat({ pool: db.pool, roles: config.ROLES, version: 'test', gauges: () => ({ websockets: app.liveConnections() }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  ctx.base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  ctx.background = background;
  ctx.harness = {
    db,
    eventStore,
    background,
    app,
    async restart() {
      throw new Error('not used');
    },
    async close() {
      await heartbeat.stop();
      await app.close();
      await background.stop();
      await appendPool.end();
      await db.drop();
    },
  };
  ctx.manager = await login(ctx.harness, ADMIN.username, ADMIN.password);
  ctx.seeded = await seedStore(ctx.harness, ctx.manager, 20);
  const sold = await ctx.manager.patch(ctx.seeded.itemUrl, { delta: -4, reason: 'sold' });
  assert.is(sold.statusCode, 200, sold.body);
  const other = (await ctx.manager.post('/api/stores', { name: 'Harbour Road', code: 'HR1' })).json<{ id: string }>();
  ctx.otherStoreId = other.id;
  const added = await ctx.manager.post(`/api/inventory/stores/${other.id}/items`, { skuId: ctx.seeded.skuId, quantity: 2 });
  assert.is(added.statusCode, 201, added.body);
  // The read model has every seeded change before the browser looks.
  const position = added.json<{ position: string }>().position;
  const caughtUp = await ctx.manager.get('/api/reports/inventory', { 'x-min-position': position });
  assert.is(caughtUp.statusCode, 200, caughtUp.body);

  await mkdir(SHOTS, { recursive: true });
  ctx.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  ctx.context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 } });
  ctx.page = await ctx.context.newPage();
  ctx.errors = [];
  ctx.page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') ctx.errors.push({ text: message.text(), url: message.location().url });
  });
  ctx.page.on('pageerror', (error) => ctx.errors.push({ text: `page error: ${error.message}`, url: '' }));
});

test.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.harness?.close();
  await rm(ctx.dataDir, { recursive: true, force: true });
});

/** Controls with no accessible name (no label, no aria-label, a button with no text): none is allowed. */
const unlabelled = (page: Page) =>
  page.evaluate<string[]>(`[...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.type !== 'hidden')
    .filter((el) => {
      const named = [...(el.labels ?? [])].map((label) => label.textContent).join('') || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' ? el.textContent : '');
      return !named || !named.trim();
    })
    .map((el) => el.outerHTML.slice(0, 120))`);

/** Writes a screenshot of the page, after checking that every control on it has a label. */
const shot = async (page: Page, name: string) => {
  if (!name.endsWith('-failed')) assert.equal(await unlabelled(page), [], `controls without a label on the ${name} page`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
};
const text = async (page: Page, selector: string) => (await page.locator(selector).first().textContent())?.trim() ?? '';

test('the console is served with its own strict CSP, and its libraries from this server', async ({ base }) => {
  const index = await fetch(`${base}/console/`);
  assert.is(index.status, 200);
  assert.is(index.headers.get('content-security-policy'), CONSOLE_CSP);
  assert.match(await index.text(), '<script type="module" src="/console/app.js">');
  const redirect = await fetch(`${base}/console`, { redirect: 'manual' });
  assert.is(redirect.headers.get('location'), '/console/');
  assert.is((await fetch(`${base}/console/vendor/preact/preact.mjs`)).status, 200);
  // Only the named library files: nothing else of node_modules is reachable.
  assert.is((await fetch(`${base}/console/vendor/preact/preact.js`)).status, 404);
  assert.is((await fetch(`${base}/console/vendor/htm/../../package.json`)).status, 404);
});

test('a wrong password shows the problem detail; the right one opens the dashboard', async ({ page, base }) => {
  await page.goto(`${base}/console`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
  await shot(page, 'login');
  // By keyboard: the password field, then Enter submits.
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.keyboard.press('Enter');
  await page.locator('[data-figure="stockValue"]').waitFor();
  assert.ok(await page.evaluate<string | null>("sessionStorage.getItem('stockroom.token')"), 'the token is kept for the tab');
});

test("the dashboard's figures equal GET /api/reports/inventory", async ({ page, manager }) => {
  const report = (await manager.get('/api/reports/inventory')).json<Record<string, unknown> & { perStore: Record<string, unknown>[]; movements: { day: string; unitsIn: number; unitsOut: number }[] }>();
  for (const name of ['stockValue', 'unitsInStock', 'stores', 'openStores', 'skus', 'items', 'lowStockItems', 'outOfStockItems']) {
    assert.is(await text(page, `[data-figure="${name}"]`), String(report[name]), name);
  }
  for (const store of report.perStore) {
    const row = `tr[data-store="${String(store.storeId)}"]`;
    for (const column of ['items', 'units', 'stockValue', 'lowStockItems', 'outOfStockItems']) {
      assert.is(await text(page, `${row} td[data-col="${column}"]`), String(store[column]), `${String(store.name)} ${column}`);
    }
  }
  const today = report.movements.at(-1)!;
  assert.ok(today.unitsOut >= 4);
  await page.getByText('The figures').click();
  assert.is(await text(page, `tr[data-day="${today.day}"] td:nth-child(3)`), String(today.unitsOut));
  assert.ok(await page.locator('.chart canvas').first().isVisible(), 'the movements chart is drawn');
  assert.is(await page.locator('[data-movers="last24h"] tbody tr').count(), 1);
  await page.getByText('The figures').click();
  await shot(page, 'dashboard');
});

test('the dashboard follows a change through /ws without a reload', async ({ page, manager, seeded }) => {
  await page.locator('.live', { hasText: 'Live' }).waitFor();
  await page.evaluate('window.marker = 1');
  const before = await text(page, '[data-figure="unitsInStock"]');
  const changed = await manager.patch(seeded.itemUrl, { delta: 5, reason: 'received' });
  assert.is(changed.statusCode, 200, changed.body);
  await page.locator('[data-figure="unitsInStock"]', { hasText: String(Number(before) + 5) }).waitFor({ timeout: LIVE_WAIT_MS });
  assert.is(await page.evaluate<number>('window.marker'), 1, 'not reloaded');
});

test("a store's page updates its rows in place, and catches up after a dropped connection", async ({ page, manager, seeded, harness }) => {
  await page.getByRole('link', { name: 'Stores' }).click();
  await page.locator('ul.stores a').first().waitFor();
  await page.locator(`a[href="#/stores/${seeded.storeId}"]`).click();
  const quantity = page.locator(`tr[data-sku="${seeded.skuId}"] td[data-col="quantity"]`);
  await quantity.waitFor();
  await page.locator('.live', { hasText: 'Live' }).waitFor();
  const start = Number(await quantity.textContent());
  await page.evaluate('window.marker = 2');

  const sold = await manager.patch(seeded.itemUrl, { delta: -1, reason: 'sold' });
  assert.is(sold.statusCode, 200, sold.body);
  await page.locator(`tr[data-sku="${seeded.skuId}"] td[data-col="quantity"]`, { hasText: String(start - 1) }).waitFor({ timeout: LIVE_WAIT_MS });

  // Drop every websocket (as a restart or a network blip would), change the stock meanwhile.
  await page.evaluate(`{
    const seen = (window.statuses = []);
    new MutationObserver(() => {
      const status = document.querySelector('.live')?.textContent;
      if (status && seen.at(-1) !== status) seen.push(status);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }`);
  for (const client of harness.app.websocketServer.clients) client.terminate();
  const again = await manager.patch(seeded.itemUrl, { delta: -2, reason: 'damaged' });
  assert.is(again.statusCode, 200, again.body);
  await page.locator(`tr[data-sku="${seeded.skuId}"] td[data-col="quantity"]`, { hasText: String(start - 3) }).waitFor({ timeout: LIVE_WAIT_MS });
  await page.locator('.live', { hasText: 'Live' }).waitFor({ timeout: LIVE_WAIT_MS });
  const statuses = await page.evaluate<string[]>('window.statuses');
  assert.ok(statuses.includes('Reconnecting…'), `showed reconnecting: ${statuses.join(', ')}`);
  assert.is(await page.evaluate<number>('window.marker'), 2, 'not reloaded');

  // The API's filters: a quantity above what it holds finds nothing.
  await page.getByLabel('Quantity from').fill('1000');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No items match.').waitFor();
  await page.getByRole('button', { name: 'Reset' }).click();
  await quantity.waitFor();
  await shot(page, 'store');
});

test("an item's page shows its history: who, when, why", async ({ page, seeded }) => {
  await page.locator(`tr[data-sku="${seeded.skuId}"] a`).click();
  // Added, sold 4, received 5, sold 1, damaged 2: newest first.
  await page.locator('table.history tbody tr').nth(4).waitFor();
  const rows = await page.locator('table.history tbody tr').allTextContents();
  assert.is(rows.length, 5, rows.join('\n'));
  assert.match(rows[0]!, /admin.*StockAdjusted.*-2.*damaged/);
  assert.match(rows[1]!, /admin.*StockAdjusted.*-1.*sold/);
  assert.match(rows[4]!, /admin.*StockItemAdded/);
  await shot(page, 'item');
});

test('the cluster page shows processes, dependencies, subscribers and the mail queue', async ({ page }) => {
  await page.getByRole('link', { name: 'Cluster' }).click();
  await page.locator('[data-table="processes"] tbody tr').first().waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
    await shot(page, 'cluster-failed');
    throw error;
  });
  assert.match(await text(page, '[data-table="processes"] tbody tr'), 'write-api');
  assert.match(await text(page, '[data-table="dependencies"] tbody'), 'healthy');
  assert.ok((await page.locator('[data-table="subscribers"] tbody tr').count()) >= 1);
  await shot(page, 'cluster');
});

test('logging out returns to the login form', async ({ page }) => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You logged out.').waitFor();
  assert.ok(await page.getByLabel('Username').isVisible());
  assert.is(await page.evaluate<string | null>("sessionStorage.getItem('stockroom.token')"), null);
});

test('staff see their stores only and no cluster page; the server refuses the rest', async ({ page, base, seeded, otherStoreId, harness }) => {
  const staffUser = (await harness.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${seeded.staff.token}` } })).json<{ username: string }>();
  await page.getByLabel('Username').fill(staffUser.username);
  await page.getByLabel('Password').fill('staff-password-1');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Stores' }).waitFor();
  assert.is(await page.getByRole('link', { name: 'Cluster' }).count(), 0);
  assert.is(await page.getByRole('link', { name: 'Inventory' }).count(), 0);
  assert.is(await page.locator('ul.stores li').count(), 1);

  await page.goto(`${base}/console/#/cluster`);
  await page.getByText('The cluster status is not available to your role.').waitFor();
  await page.goto(`${base}/console/#/stores/${otherStoreId}`);
  const problem = page.getByRole('alert').filter({ hasText: 'Forbidden' });
  await problem.waitFor();
  assert.match((await problem.textContent()) ?? '', /Correlation id: [0-9a-f-]{36}/);
  await shot(page, 'forbidden');

  const cluster = await seeded.staff.get('/api/reports/cluster');
  assert.is(cluster.statusCode, 403);
  assert.is((await seeded.staff.get(`/api/inventory/stores/${otherStoreId}`)).statusCode, 403);
});

test('a revoked token returns to the login form with the reason', async ({ page, base, seeded }) => {
  await page.goto(`${base}/console/#/stores/${seeded.storeId}`);
  await page.locator('.live', { hasText: 'Live' }).waitFor();
  const token = await page.evaluate<string | null>("sessionStorage.getItem('stockroom.token')");
  const revoked = await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.is(revoked.status, 204);
  await page.getByText('Your session ended: The token was revoked; log in again.').waitFor({ timeout: LIVE_WAIT_MS });
  assert.ok(await page.getByLabel('Username').isVisible());
});

test('the browser logged no errors but the refusals the tests asked for', async ({ errors, base, otherStoreId }) => {
  // The browser logs each refused request; these were provoked on purpose above: the wrong
  // password, the other store, and the calls made with the revoked token.
  const provoked = (url: string, status: string) =>
    (status === '401' && url === `${base}/api/auth/login`) ||
    (status === '403' && url.includes(otherStoreId)) ||
    (status === '401' && url.startsWith(`${base}/api/`));
  const unexpected = errors.filter((error) => {
    const refused = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(error.text);
    return !(refused && provoked(error.url.split('?')[0]!, refused[1]!));
  });
  assert.equal(unexpected, []);
});

test.run();
