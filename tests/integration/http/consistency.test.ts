import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/shared/config.js';
import { stockItems } from '../../../src/write/aggregates.js';
import { stockItemStream } from '../../../src/write/streams.js';
import { ADMIN, type Client, clientWithToken, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import {
  assertProblem,
  assertWritten,
  createUser,
  fullHistory,
  quantityOf,
  refused,
  stockNewSku,
  unique,
} from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  staff: Client;
  staffId: string;
  storeId: string;
}

const test = suite<Context>('HTTP: versions, conflicts and concurrency');

test.before(async (context) => {
  context.harness = await startHarness('consistency');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  const seeded = await seedStore(context.harness, context.manager, 10);
  context.staff = seeded.staff;
  context.staffId = seeded.staffId;
  context.storeId = seeded.storeId;
});
test.after(async ({ harness }) => harness.close());

test('If-Match with a stale version is 409 with the current version, and writes nothing', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 5);
  const first = assertWritten(await manager.patch(itemUrl, { delta: 1, reason: 'received' }, { 'if-match': '"0"' }));
  assert.is(first.revision, 1);
  assert.is(first.quantity, 6);

  const stale = await refused(harness, () => manager.patch(itemUrl, { delta: 1, reason: 'received' }, { 'if-match': '"0"' }), 409, {
    type: 'version-conflict',
  });
  assert.is(stale.revision, 1, 'the current version in the body');
  const again = await manager.patch(itemUrl, { delta: -1, reason: 'sold' }, { 'if-match': '"0"' });
  assertProblem(again, 409, { type: 'version-conflict' });
  assert.is(again.headers.etag, '"1"', 'the current version as the ETag');

  const ahead = await refused(harness, () => manager.patch(itemUrl, { countedQuantity: 0 }, { 'if-match': '"7"' }), 409, { type: 'version-conflict' });
  assert.is(ahead.revision, 1, 'a version from the future is a conflict too');

  assert.is(await quantityOf(manager, itemUrl), 6, 'nothing of the refused requests landed');
});

test('If-Match with the current version succeeds, in both the strong and the weak form', async ({ manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 5);
  const sold = assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'if-match': '"0"' }));
  assert.is(sold.revision, 1);
  assert.is(sold.quantity, 3);
  const counted = assertWritten(await manager.patch(itemUrl, { countedQuantity: 4 }, { 'if-match': 'W/"1"' }));
  assert.is(counted.revision, 2);
  assert.is(counted.quantity, 4);
  const any = assertWritten(await manager.patch(itemUrl, { lowStockThreshold: 9 }, { 'if-match': '*' }));
  assert.is(any.revision, 3, 'If-Match: * asks for no particular version');
});

test('If-Match guards stores and users as well', async ({ harness, manager, staffId }) => {
  const store = assertWritten(await manager.post('/api/stores', { name: 'Guarded' }), 201);
  const url = `/api/stores/${String(store.id)}`;
  assertWritten(await manager.patch(url, { name: 'Guarded 2' }, { 'if-match': '"0"' }));
  const conflict = await refused(harness, () => manager.patch(url, { name: 'Guarded 3' }, { 'if-match': '"0"' }), 409, { type: 'version-conflict' });
  assert.is(conflict.revision, 1);

  const user = (await manager.get(`/api/users/${staffId}`)).json<{ revision: number }>();
  const stale = await refused(
    harness,
    () => manager.patch(`/api/users/${staffId}`, { displayName: 'Stale' }, { 'if-match': `"${user.revision + 1}"` }),
    409,
    { type: 'version-conflict' },
  );
  assert.is(stale.revision, user.revision);
  const fresh = assertWritten(await manager.patch(`/api/users/${staffId}`, { displayName: 'Fresh' }, { 'if-match': `"${user.revision}"` }));
  assert.is(fresh.revision, user.revision + 1);
});

test('concurrent requests with the same If-Match: exactly one wins, the others are 409', async ({ manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 50);
  const answers = await Promise.all(
    Array.from({ length: 6 }, () => manager.patch(itemUrl, { delta: -1, reason: 'sold' }, { 'if-match': '"0"' })),
  );
  const won = answers.filter((answer) => answer.statusCode === 200);
  assert.is(won.length, 1, answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n'));
  for (const answer of answers.filter((a) => a.statusCode !== 200)) {
    const problem = assertProblem(answer, 409, { type: 'version-conflict' });
    assert.is(problem.revision, 1);
  }
  assert.is(await quantityOf(manager, itemUrl), 49);
});

test('20 concurrent "received +1" without If-Match all land', async ({ manager, staff, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 7);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, index) => (index % 2 ? staff : manager).patch(itemUrl, { delta: 1, reason: 'received' })),
  );
  const failed = answers.filter((answer) => answer.statusCode !== 200);
  assert.is(failed.length, 0, failed.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n'));
  const bodies = answers.map((answer) => assertWritten(answer));
  assert.equal(
    bodies.map((body) => body.revision).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, index) => index + 1),
    'each answer names its own revision',
  );
  assert.equal(
    bodies.map((body) => body.quantity as number).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, index) => 8 + index),
    'each answer saw the quantity its own adjustment left',
  );

  const history = await fullHistory(manager, itemUrl);
  const adjusted = history.filter((entry) => entry.type === 'StockAdjusted');
  assert.is(adjusted.length, 20);
  assert.equal(adjusted.map((entry) => entry.data.quantityAfter), Array.from({ length: 20 }, (_, index) => 8 + index));
  const final = assertWritten(await manager.patch(itemUrl, { lowStockThreshold: 1 }));
  assert.is(final.quantity, 27, 'start + 20');
});

test('stock never goes negative: 15 concurrent "sold -1" on 10 → 10 sold, 5 refused', async ({ manager, staff, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const answers = await Promise.all(
    Array.from({ length: 15 }, (_, index) => (index % 2 ? staff : manager).patch(itemUrl, { delta: -1, reason: 'sold' })),
  );
  const sold = answers.filter((answer) => answer.statusCode === 200);
  const refusedAnswers = answers.filter((answer) => answer.statusCode !== 200);
  assert.is(sold.length, 10, answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n'));
  for (const answer of refusedAnswers) {
    const problem = assertProblem(answer, 409, { type: 'insufficient-stock' });
    assert.is(problem.available, 0);
    assert.is(problem.requested, 1);
  }
  assert.equal(
    sold.map((answer) => answer.json<{ quantity: number }>().quantity).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const history = await fullHistory(manager, itemUrl);
  const adjusted = history.filter((entry) => entry.type === 'StockAdjusted');
  assert.is(adjusted.length, 10);
  assert.ok(adjusted.every((entry) => (entry.data.quantityAfter as number) >= 0));
  const final = assertWritten(await manager.patch(itemUrl, { lowStockThreshold: 2 }));
  assert.is(final.quantity, 0);
});

test('concurrent sales of several units never oversell', async ({ manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const answers = await Promise.all(Array.from({ length: 8 }, () => manager.patch(itemUrl, { delta: -3, reason: 'sold' })));
  const sold = answers.filter((answer) => answer.statusCode === 200);
  assert.is(sold.length, 3, answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n'));
  for (const answer of answers.filter((a) => a.statusCode !== 200)) {
    const problem = assertProblem(answer, 409, { type: 'insufficient-stock' });
    assert.is(problem.available, 1);
  }
  assert.is(await quantityOf(manager, itemUrl), 1);
});

test('every command answers with revision, position and ETag; positions grow', async ({ harness, manager, staff, storeId }) => {
  const positions: bigint[] = [];
  const check = (response: Parameters<typeof assertWritten>[0], status = 200) => {
    const body = assertWritten(response, status);
    positions.push(BigInt(body.position));
    return body;
  };
  const store = check(await manager.post('/api/stores', { name: 'Answers', code: 'ANS' }), 201);
  assert.is(store.revision, 0);
  const storeUrl = `/api/stores/${String(store.id)}`;
  // A rename and a change of details are two events in one append: the revision of the last.
  assert.is(check(await manager.patch(storeUrl, { name: 'Answers 2', address: '2 Side Street' })).revision, 2);

  const sku = check(await manager.post('/api/skus', { code: unique('ANS-'), name: 'Answer tea', price: '1.20' }), 201);
  const skuUrl = `/api/skus/${String(sku.id)}`;
  assert.is(check(await manager.patch(skuUrl, { price: '1.30' })).revision, 1);

  const item = check(await manager.post(`/api/inventory/stores/${String(store.id)}/items`, { skuId: sku.id, quantity: 4 }), 201);
  assert.is(item.revision, 0);
  const itemUrl = `/api/inventory/stores/${String(store.id)}/items/${String(sku.id)}`;
  assert.is(check(await manager.patch(itemUrl, { delta: 2, reason: 'received' })).revision, 1);
  assert.is(check(await manager.patch(itemUrl, { countedQuantity: 5 })).revision, 2);
  assert.is(check(await manager.patch(itemUrl, { lowStockThreshold: 1 })).revision, 3);
  assert.is(check(await manager.delete(itemUrl)).revision, 4);

  const username = unique('ans');
  const user = check(await manager.post('/api/users', { username, password: 'answer-password-1', role: 'staff', storeIds: [storeId] }), 201);
  const userUrl = `/api/users/${String(user.id)}`;
  assert.is(check(await manager.patch(userUrl, { displayName: 'Ann' })).revision, 1);
  assert.is(check(await manager.put(`${userUrl}/stores`, { storeIds: [String(store.id)] })).revision, 2);
  assert.is(check(await staff.patch('/api/auth/me', { displayName: 'Staff' })).revision >= 1, true);

  const answerer = await login(harness, username, 'answer-password-1');
  assert.is(check(await answerer.put('/api/auth/me/password', { currentPassword: 'answer-password-1', newPassword: 'answer-password-2' })).revision, 3);
  assert.is(check(await manager.delete(userUrl)).revision, 4);
  assert.is(check(await manager.delete(skuUrl)).revision, 2);
  assert.is(check(await manager.delete(storeUrl)).revision, 3);

  for (let index = 1; index < positions.length; index += 1) {
    assert.ok(positions[index]! > positions[index - 1]!, `position ${positions[index]} after ${positions[index - 1]}`);
  }
  assert.is(positions.at(-1), await harness.eventStore.headPosition(), 'the last answer names the head of the store');
});

test('a command that changes nothing answers the current revision and writes nothing', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 3);
  const set = assertWritten(await manager.patch(itemUrl, { lowStockThreshold: 2 }));
  const head = await harness.eventStore.headPosition();
  const same = assertWritten(await manager.patch(itemUrl, { lowStockThreshold: 2 }));
  assert.is(same.revision, set.revision);
  assert.is(same.position, set.position);
  assert.is(await harness.eventStore.headPosition(), head);
});

test('after a restart (an empty cache) commands on existing streams still work', async ({ harness, manager, staff, storeId, staffId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const storeUrl = `/api/stores/${storeId}`;
  await harness.restart();

  const sold = await staff.patch(itemUrl, { delta: -1, reason: 'sold' });
  assert.is(sold.statusCode, 200, `sold after restart: ${sold.statusCode} ${sold.body}`);
  assert.is(assertWritten(sold).quantity, 9);

  const renamed = await manager.patch(storeUrl, { address: '3 Restart Road' });
  assert.is(renamed.statusCode, 200, `store after restart: ${renamed.statusCode} ${renamed.body}`);

  const profile = await manager.patch(`/api/users/${staffId}`, { displayName: 'After restart' });
  assert.is(profile.statusCode, 200, `user after restart: ${profile.statusCode} ${profile.body}`);
});

test('two replicas on one database: a stale cache never refuses what the truth allows', async ({ harness, manager, storeId }) => {
  const { itemUrl, skuId } = await stockNewSku(manager, storeId, 1);
  // This replica (A) sells the last unit: its cache now says 0.
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));

  // A second replica (B) on the same database, signing its own tokens, receives 5 more.
  const secret = 'replica-b-secret-that-is-long-enough-0123456789';
  const replica = await buildApp({
    config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: secret }),
    pool: harness.db.pool,
    eventStore: harness.eventStore,
    jwtSecret: secret,
    logger: false,
  });
  try {
    // B has seen the item once (its cache is warm, not empty), as a replica that served it before would.
    assert.is((await replica.commands.load(stockItems, stockItemStream(storeId, skuId))).state.status, 'present');
    const loggedIn = await replica.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
    assert.is(loggedIn.statusCode, 200, loggedIn.body);
    const token = loggedIn.json<{ token: string }>().token;
    const received = await replica.inject({
      method: 'PATCH',
      url: itemUrl,
      headers: { authorization: `Bearer ${token}` },
      payload: { delta: 5, reason: 'received' },
    });
    assert.is(assertWritten(received).quantity, 5);
  } finally {
    await replica.close();
  }

  // Back on A: 5 are in stock, whatever A remembered.
  const sold = await manager.patch(itemUrl, { delta: -2, reason: 'sold' });
  assert.is(sold.statusCode, 200, `sold on the stale replica: ${sold.statusCode} ${sold.body}`);
  assert.is(assertWritten(sold).quantity, 3);
  assert.is(await quantityOf(manager, itemUrl), 3);
});

test('concurrent writes to different items do not conflict', async ({ manager, storeId }) => {
  const items = await Promise.all(Array.from({ length: 4 }, () => stockNewSku(manager, storeId, 5)));
  const answers = await Promise.all(items.flatMap(({ itemUrl }) => [1, 2, 3].map(() => manager.patch(itemUrl, { delta: -1, reason: 'sold' }))));
  assert.ok(answers.every((answer) => answer.statusCode === 200), answers.map((a) => a.statusCode).join(','));
  for (const { itemUrl } of items) assert.is(await quantityOf(manager, itemUrl), 2);
});

test('a staff member added concurrently as a user sees their stores at once', async ({ harness, manager, storeId }) => {
  const username = unique('late');
  const userId = await createUser(manager, { username, password: 'late-password-1', role: 'staff' });
  const late = await login(harness, username, 'late-password-1');
  const { itemUrl } = await stockNewSku(manager, storeId, 2);
  assertProblem(await late.patch(itemUrl, { delta: -1, reason: 'sold' }), 403, { type: 'forbidden' });
  assertWritten(await manager.put(`/api/users/${userId}/stores`, { storeIds: [storeId] }));
  assertWritten(await late.patch(itemUrl, { delta: -1, reason: 'sold' }));
  const unassigned = clientWithToken(harness, late.token);
  assertWritten(await manager.put(`/api/users/${userId}/stores`, { storeIds: [] }));
  assertProblem(await unassigned.patch(itemUrl, { delta: -1, reason: 'sold' }), 403, { type: 'forbidden' });
});

test.run();
