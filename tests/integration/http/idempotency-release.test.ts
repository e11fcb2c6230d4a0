import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';
import { assertWritten, unique } from '../../support/http-assertions.js';

interface Context {
  harness: Harness;
  manager: Client;
  managerId: string;
}

const test = suite<Context>('HTTP: an Idempotency-Key whose first attempt ended in a 5xx is released');

test.before(async (context) => {
  context.harness = await startHarness('idempotency_release');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
  context.managerId = (await context.manager.get('/api/auth/me')).json<{ id: string }>().id;
});
test.after(async ({ harness }) => harness.close());

/** The append fails inside PostgreSQL, as on a full disk: a trigger of the test's own, dropped afterwards. */
async function appendsFail<T>(harness: Harness, run: () => Promise<T>): Promise<T> {
  await harness.db.pool.query(sql.unsafe`
    create function test_fail_append() returns trigger language plpgsql as $$
    begin raise exception 'could not extend file (played by the test)'; end $$`);
  await harness.db.pool.query(sql.unsafe`
    create trigger test_fail_append before insert on es_events for each statement execute function test_fail_append()`);
  try {
    return await run();
  } finally {
    await harness.db.pool.query(sql.unsafe`drop trigger test_fail_append on es_events`);
    await harness.db.pool.query(sql.unsafe`drop function test_fail_append()`);
  }
}

const keyRow = z.object({ resource_id: z.string(), released: z.boolean(), status_code: z.number().nullable() });

test('the retry of a keyed creation that failed with a 500 runs at once and names the same resource', async ({ harness, manager, managerId }) => {
  const idempotencyKey = `key-${randomUUID()}`;
  const name = unique('Retried store ');
  const failed = await appendsFail(harness, () => manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey }));
  assert.is(failed.statusCode, 500, failed.body);
  const row = keyRow.parse(
    await harness.db.pool.one(sql.unsafe`
      select resource_id::text, released, status_code from idempotency_keys where scope = ${managerId} and key = ${idempotencyKey}`),
  );
  assert.is(row.released, true, 'the claim is released, not left looking in flight');
  assert.is(row.status_code, null, 'a 5xx is not kept as the answer');

  const started = Date.now();
  const retry = await manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey });
  const waited = Date.now() - started;
  const created = assertWritten(retry, 201);
  // Not a measure of speed: an in-flight claim would hold the retry for its whole 5 s wait.
  assert.ok(waited < 4_000, `the retry did not wait for the failed attempt (${waited} ms)`);
  assert.is(created.id, row.resource_id, 'the retry reuses the resource id drawn for the key');

  const again = await manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey });
  assert.is(again.headers['idempotent-replayed'], 'true');
  assert.is(again.body, retry.body);
});

test('of several concurrent retries after a 5xx, one runs and the others answer as it did', async ({ harness, manager }) => {
  const idempotencyKey = `key-${randomUUID()}`;
  const name = unique('Raced store ');
  const failed = await appendsFail(harness, () => manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey }));
  assert.is(failed.statusCode, 500);
  const head = await harness.eventStore.headPosition();
  const retries = await Promise.all(Array.from({ length: 6 }, () => manager.post('/api/stores', { name }, { 'idempotency-key': idempotencyKey })));
  for (const retry of retries) assert.is(retry.statusCode, 201, retry.body);
  assert.is(new Set(retries.map((retry) => retry.json<{ id: string }>().id)).size, 1, 'one store');
  assert.is((await harness.eventStore.headPosition()) - head, 1n, 'one StoreOpened');
});

test.run();
