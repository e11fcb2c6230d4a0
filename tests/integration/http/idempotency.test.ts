import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { sql } from 'slonik';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertProblem, assertWritten, fullHistory, quantityOf, refused, sleep, stockNewSku, unique } from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
  staff: Client;
  staffId: string;
  storeId: string;
}

const test = suite<Context>('HTTP: Idempotency-Key applies a command once');

test.before(async (context) => {
  context.harness = await startHarness('idempotency');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
  const seeded = await seedStore(context.harness, context.manager, 10);
  context.staff = seeded.staff;
  context.staffId = seeded.staffId;
  context.storeId = seeded.storeId;
});
test.after(async ({ harness }) => harness.close());

const key = () => `key-${randomUUID()}`;
const adjustments = async (client: Client, itemUrl: string) =>
  (await fullHistory(client, itemUrl)).filter((entry) => entry.type === 'StockAdjusted');

test('a retried "sold 2" with the same key counts once and answers the same', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const headers = { 'idempotency-key': key() };
  const first = await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers);
  const firstBody = assertWritten(first);
  assert.is(firstBody.quantity, 8);
  assert.is(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');

  const head = await harness.eventStore.headPosition();
  const second = await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers);
  assert.is(second.statusCode, 200);
  assert.is(second.body, first.body, 'the same answer, byte for byte');
  assert.is(second.headers.etag, first.headers.etag);
  assert.is(second.headers['content-type'], first.headers['content-type']);
  assert.is(second.headers['idempotent-replayed'], 'true');
  assert.is(await harness.eventStore.headPosition(), head, 'the repeat wrote nothing');

  const sold = await adjustments(manager, itemUrl);
  assert.is(sold.length, 1, 'one StockAdjusted');
  // Control: without the key the same body does apply again.
  assert.is(assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' })).quantity, 6);
});

test('10 concurrent copies of one keyed "sold 2" count once and all answer the same', async ({ manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const headers = { 'idempotency-key': key() };
  const answers = await Promise.all(Array.from({ length: 10 }, () => manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers)));
  const summary = answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n');
  assert.ok(
    answers.every((answer) => answer.statusCode === 200),
    `every copy answers 200:\n${summary}`,
  );
  for (const answer of answers) {
    const body = assertWritten(answer);
    assert.is(body.quantity, 8, summary);
    assert.is(body.revision, 1, summary);
  }
  const sold = await adjustments(manager, itemUrl);
  assert.is(sold.length, 1, 'exactly one StockAdjusted');
  assert.is(sold[0]!.data.delta, -2);
  assert.is(await quantityOf(manager, itemUrl), 8, 'down by 2 only');
});

test('concurrent copies of a keyed sale of the last units all answer its success', async ({ manager, storeId }) => {
  // The first copy sells the last 2; a copy that runs after it must not answer "insufficient stock".
  const { itemUrl } = await stockNewSku(manager, storeId, 2);
  const headers = { 'idempotency-key': key() };
  const answers = await Promise.all(Array.from({ length: 10 }, () => manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers)));
  const summary = answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n');
  assert.ok(answers.every((answer) => answer.statusCode === 200), `every copy answers the sale:\n${summary}`);
  assert.ok(answers.every((answer) => answer.json<{ quantity: number }>().quantity === 0), summary);
  assert.is((await adjustments(manager, itemUrl)).length, 1);
  assert.is(await quantityOf(manager, itemUrl), 0);
});

test('the same key with a different body is 422 naming the header, and writes nothing', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const headers = { 'idempotency-key': key() };
  assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers));
  await refused(harness, () => manager.patch(itemUrl, { delta: -3, reason: 'sold' }, headers), 422, {
    type: 'idempotency-key-reused',
    fields: ['headers.idempotency-key'],
  });
  await refused(harness, () => manager.patch(itemUrl, { delta: -2, reason: 'damaged' }, headers), 422, { fields: ['headers.idempotency-key'] });
  const other = await stockNewSku(manager, storeId, 10);
  await refused(harness, () => manager.patch(other.itemUrl, { delta: -2, reason: 'sold' }, headers), 422, {
    fields: ['headers.idempotency-key'],
  });
  await refused(harness, () => manager.post('/api/stores', { name: 'Reused key' }, headers), 422, { fields: ['headers.idempotency-key'] });
  assert.is(await quantityOf(manager, itemUrl), 8);
  assert.is(await quantityOf(manager, other.itemUrl), 10);
});

test('the same key used by another user is independent', async ({ manager, staff, managerId, staffId, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const headers = { 'idempotency-key': key() };
  const byManager = assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }, headers));
  const byStaff = await staff.patch(itemUrl, { delta: -1, reason: 'sold' }, headers);
  assert.is(byStaff.headers['idempotent-replayed'], undefined, 'not the manager’s answer');
  const staffBody = assertWritten(byStaff);
  assert.is(byManager.quantity, 9);
  assert.is(staffBody.quantity, 8);
  const sold = await adjustments(manager, itemUrl);
  assert.equal(sold.map((entry) => entry.actor), [managerId, staffId]);
  // And each one's repeat is still its own.
  const staffAgain = await staff.patch(itemUrl, { delta: -1, reason: 'sold' }, headers);
  assert.is(staffAgain.body, byStaff.body);
  assert.is(staffAgain.headers['idempotent-replayed'], 'true');
  assert.is(await quantityOf(manager, itemUrl), 8);
});

test('a keyed POST /api/stores repeated names the same store and opens it once', async ({ harness, manager }) => {
  const headers = { 'idempotency-key': key() };
  const name = unique('Keyed store ');
  const first = await manager.post('/api/stores', { name }, headers);
  const firstBody = assertWritten(first, 201);
  const second = await manager.post('/api/stores', { name }, headers);
  assert.is(second.statusCode, 201);
  assert.is(second.json<{ id: string }>().id, firstBody.id);
  assert.is(second.headers.location, first.headers.location);
  assert.is(second.headers.location, `/api/stores/${String(firstBody.id)}`);
  assert.is(second.headers['idempotent-replayed'], 'true');
  const events = await harness.eventStore.readStream(`store-${String(firstBody.id)}`);
  assert.equal(events.map((event) => event.type), ['StoreOpened']);
  const opened = (await harness.eventStore.readAll({ after: 0n, maxCount: 100_000 })).filter(
    (event) => event.type === 'StoreOpened' && (event.data as { name: string }).name === name,
  );
  assert.is(opened.length, 1, 'one StoreOpened with that name in the whole store');
});

test('concurrent copies of a keyed POST /api/stores open one store', async ({ harness, manager }) => {
  const headers = { 'idempotency-key': key() };
  const name = unique('Raced store ');
  const answers = await Promise.all(Array.from({ length: 6 }, () => manager.post('/api/stores', { name }, headers)));
  const summary = answers.map((answer) => `${answer.statusCode} ${answer.body}`).join('\n');
  assert.ok(answers.every((answer) => answer.statusCode === 201), summary);
  const ids = new Set(answers.map((answer) => answer.json<{ id: string }>().id));
  assert.is(ids.size, 1, summary);
  const opened = (await harness.eventStore.readAll({ after: 0n, maxCount: 100_000 })).filter(
    (event) => event.type === 'StoreOpened' && (event.data as { name: string }).name === name,
  );
  assert.is(opened.length, 1);
});

test('a keyed POST /api/users repeated registers the user once', async ({ harness, manager }) => {
  const headers = { 'idempotency-key': key() };
  const username = unique('keyed');
  const body = { username, password: 'keyed-password-1', role: 'staff' };
  const first = assertWritten(await manager.post('/api/users', body, headers), 201);
  const second = await manager.post('/api/users', body, headers);
  assert.is(second.statusCode, 201, 'not 409: the username is taken by this very request');
  assert.is(second.json<{ id: string }>().id, first.id);
  assert.is((await harness.eventStore.readStream(`user-${String(first.id)}`)).length, 1);
});

test('a keyed request refused with 409 insufficient stock replays the 409', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 1);
  const headers = { 'idempotency-key': key() };
  const first = await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers);
  const problem = assertProblem(first, 409, { type: 'insufficient-stock' });
  assert.is(problem.available, 1);

  // Stock arrives; the repeat must still answer the first result, not sell now.
  assertWritten(await manager.patch(itemUrl, { delta: 5, reason: 'received' }));
  const head = await harness.eventStore.headPosition();
  const repeat = await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, headers);
  assertProblem(repeat, 409, { type: 'insufficient-stock' });
  assert.is(repeat.body, first.body);
  assert.is(repeat.headers['idempotent-replayed'], 'true');
  assert.is(await harness.eventStore.headPosition(), head);
  assert.is(await quantityOf(manager, itemUrl), 6);
});

test('a keyed DELETE repeated answers the first result', async ({ manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 4);
  const headers = { 'idempotency-key': key() };
  const first = await manager.delete(itemUrl, headers);
  assert.is(assertWritten(first).removed, true);
  const second = await manager.delete(itemUrl, headers);
  assert.is(second.statusCode, 200);
  assert.is(second.body, first.body);
  const removed = (await fullHistory(manager, itemUrl)).filter((entry) => entry.type === 'StockItemRemoved');
  assert.is(removed.length, 1);
});

test('a key survives a restart', async ({ harness, manager, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const headers = { 'idempotency-key': key() };
  const first = await manager.patch(itemUrl, { delta: -3, reason: 'sold' }, headers);
  assertWritten(first);
  await harness.restart();
  const again = await manager.patch(itemUrl, { delta: -3, reason: 'sold' }, headers);
  assert.is(again.body, first.body);
  assert.is(again.headers['idempotent-replayed'], 'true');
  assert.is((await adjustments(manager, itemUrl)).length, 1);
});

/**
 * The crash the idempotency layer promises to survive: the command's events were appended,
 * but the process died before the answer was kept under the key. Forgetting the kept answer
 * puts the key in exactly that state.
 */
const forgetAnswer = async (harness: Harness, scope: string, idempotencyKey: string) => {
  const forgotten = await harness.db.pool.query(sql.unsafe`
    update idempotency_keys set status_code = null, response = null where scope = ${scope} and key = ${idempotencyKey}`);
  assert.is(forgotten.rowCount, 1, 'the key was kept');
};

test('a repeat whose first run died before its answer was kept opens no second store and answers 201', async ({ harness, manager, managerId }) => {
  const idempotencyKey = key();
  const name = unique('Crashed store ');
  const first = assertWritten(await manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey }), 201);
  await forgetAnswer(harness, managerId, idempotencyKey);
  const head = await harness.eventStore.headPosition();
  const repeat = await manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey });
  assert.is(repeat.statusCode, 201, `the repeat answers the creation: ${repeat.statusCode} ${repeat.body}`);
  assert.is(repeat.json<{ id: string }>().id, first.id);
  assert.is(await harness.eventStore.headPosition(), head, 'nothing written twice');
});

test('a repeat whose first run died before its answer was kept does not turn a sale into "insufficient stock"', async ({ harness, manager, managerId, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 2);
  const idempotencyKey = key();
  assert.is(assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'idempotency-key': idempotencyKey })).quantity, 0);
  await forgetAnswer(harness, managerId, idempotencyKey);
  const repeat = await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'idempotency-key': idempotencyKey });
  assert.is(repeat.statusCode, 200, `the sale happened once and is answered as such: ${repeat.statusCode} ${repeat.body}`);
  assert.is(repeat.json<{ quantity: number }>().quantity, 0);
  assert.is((await adjustments(manager, itemUrl)).length, 1);
});

test('a repeat whose first run died before its answer was kept, after other sales, still counts once', async ({ harness, manager, managerId, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const idempotencyKey = key();
  assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'idempotency-key': idempotencyKey }));
  await forgetAnswer(harness, managerId, idempotencyKey);
  assertWritten(await manager.patch(itemUrl, { delta: -1, reason: 'sold' }));
  const repeat = assertWritten(await manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'idempotency-key': idempotencyKey }));
  assert.is(repeat.quantity, 7, '10 - 2 - 1: the repeat sold nothing');
  assert.is((await adjustments(manager, itemUrl)).length, 2);
});

test('a copy that reaches the key while another request is still inserting it gets an answer, not a 500', async ({ harness, manager, managerId, storeId }) => {
  const { itemUrl } = await stockNewSku(manager, storeId, 10);
  const idempotencyKey = key();
  // Another request has inserted the key and not yet committed: played here by a connection of the test.
  const other = new pg.Client({ connectionString: harness.db.url });
  await other.connect();
  let answer: Awaited<ReturnType<Client['patch']>> | undefined;
  try {
    await other.query('begin');
    await other.query('insert into idempotency_keys (scope, key, request_hash, resource_id) values ($1, $2, $3, $4)', [
      managerId,
      idempotencyKey,
      'hash of another request',
      randomUUID(),
    ]);
    void manager.patch(itemUrl, { delta: -2, reason: 'sold' }, { 'idempotency-key': idempotencyKey }).then((response) => {
      answer = response;
    });
    await sleep(300);
    assert.ok(answer === undefined, `the copy waits for the other request’s key, but answered ${answer?.statusCode} ${answer?.body}`);
    await other.query('commit');
  } finally {
    await other.end();
  }
  for (let waited = 0; answer === undefined && waited < 5000; waited += 20) await sleep(20);
  assert.ok(answer, 'the copy was answered');
  // The key was first used with another request: 422, as for any reuse.
  assertProblem(answer, 422, { type: 'idempotency-key-reused', fields: ['headers.idempotency-key'] });
  assert.is(await quantityOf(manager, itemUrl), 10);
});

test.run();
