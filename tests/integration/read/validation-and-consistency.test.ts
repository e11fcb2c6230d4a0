import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { partitionOf } from '../../../src/shared/event-bus/partition.js';
import { storeStream } from '../../../src/shared/streams.js';
import type { Harness } from '../../support/app.js';
import { assertProblem, sleep } from '../../support/http-assertions.js';
import { ok, type PageBody, type Seed, seedReadModel, setProgress, startReadHarness } from './support.js';

interface Context {
  harness: Harness;
  seed: Seed;
}

const TIMEOUT_MS = 300;

const test = suite<Context>('read API: the list grammar refuses what it does not know; X-Min-Position');

test.before(async (context) => {
  context.harness = await startReadHarness('read_rules', { minPositionTimeoutMs: TIMEOUT_MS });
  context.seed = await seedReadModel(context.harness);
});
test.after(async ({ harness }) => harness.close());

/** Flips one character of a cursor, in its payload or in its signature. */
const flip = (cursor: string, index: number): string => {
  const character = cursor[index]!;
  return `${cursor.slice(0, index)}${character === 'A' ? 'B' : 'A'}${cursor.slice(index + 1)}`;
};

test('an unknown or repeated sort field is 400 naming query.sort', async ({ seed }) => {
  assertProblem(await seed.manager.get('/api/skus?sort=colour'), 400, { type: 'validation', fields: ['query.sort'], reason: /colour/ });
  assertProblem(await seed.manager.get('/api/skus?sort=code,-code'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/skus?sort=code,,name'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/skus?sort=totalQuantity'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/inventory?sort=price'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/users?sort=password'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/stores?sort=id;drop'), 400, { fields: ['query.sort'] });
  assertProblem(await seed.manager.get('/api/skus?sort=constructor'), 400, { fields: ['query.sort'] });
});

test('an unknown query parameter is 400 naming it', async ({ seed }) => {
  assertProblem(await seed.manager.get('/api/skus?colour=red'), 400, { type: 'validation', fields: ['query.colour'] });
  assertProblem(await seed.manager.get('/api/users?status=open'), 400, { fields: ['query.status'] });
  assertProblem(await seed.manager.get(`/api/inventory/stores/${seed.staffStoreIds[0]}?deleted=true`), 400, { fields: ['query.deleted'] });
  assertProblem(await seed.manager.get('/api/inventory?lowStock=yes'), 400, { fields: ['query.lowStock'] });
  assertProblem(await seed.manager.get('/api/inventory?minQuantity=-1'), 400, { fields: ['query.minQuantity'] });
  assertProblem(await seed.manager.get('/api/inventory?maxQuantity=many'), 400, { fields: ['query.maxQuantity'] });
  assertProblem(await seed.manager.get(`/api/skus/${seed.skus[0]!.id}?expand=all`), 400, { fields: ['query.expand'] });
  assertProblem(await seed.manager.get(`/api/stores/${seed.otherStoreId}?limit=1`), 400, { fields: ['query.limit'] });
  assertProblem(await seed.manager.get('/api/reports/inventory?top=20'), 400, { fields: ['query.top'] });
  assertProblem(await seed.manager.get('/api/skus?sort=code&sort=name'), 400, { fields: ['query.sort'] });
});

test('limit must be 1 to 200', async ({ seed }) => {
  for (const limit of ['0', '201', '-5', '2.5', 'ten']) {
    assertProblem(await seed.manager.get(`/api/skus?limit=${limit}`), 400, { fields: ['query.limit'] });
  }
  assert.is(ok<PageBody<unknown>>(await seed.manager.get('/api/skus?limit=200')).items.length, seed.skus.filter((k) => !k.deleted).length);
  assert.is(ok<PageBody<unknown>>(await seed.manager.get('/api/skus?limit=1')).items.length, 1);
});

test('a tampered cursor is 400 naming query.cursor, wherever the change is', async ({ seed }) => {
  const { next } = ok<PageBody<unknown>>(await seed.manager.get('/api/skus?sort=category,-price&limit=5'));
  assert.ok(next);
  assert.is((await seed.manager.get(`/api/skus?sort=category,-price&limit=5&cursor=${next}`)).statusCode, 200, 'the cursor itself is fine');
  const dot = next.indexOf('.');
  for (const index of [0, Math.floor(dot / 2), dot - 1, dot + 1, next.length - 1]) {
    assertProblem(await seed.manager.get(`/api/skus?sort=category,-price&limit=5&cursor=${flip(next, index)}`), 400, {
      type: 'validation',
      fields: ['query.cursor'],
    });
  }
  for (const junk of ['x', 'abc.def', '...', next.replace('.', '')]) {
    assertProblem(await seed.manager.get(`/api/skus?sort=category,-price&cursor=${encodeURIComponent(junk)}`), 400, { fields: ['query.cursor'] });
  }
  // A payload of our own making, signed with nothing it knows.
  const forged = `${Buffer.from(JSON.stringify({ k: [null, null], i: seed.skus[0]!.id })).toString('base64url')}.${next.slice(dot + 1)}`;
  assertProblem(await seed.manager.get(`/api/skus?sort=category,-price&cursor=${forged}`), 400, { fields: ['query.cursor'] });
});

test('a cursor reused with another sort, other filters or another list is 400; another limit is fine', async ({ seed }) => {
  const { next } = ok<PageBody<unknown>>(await seed.manager.get('/api/skus?sort=name&limit=5'));
  assert.ok(next);
  assertProblem(await seed.manager.get(`/api/skus?sort=-name&cursor=${next}`), 400, { fields: ['query.cursor'] });
  assertProblem(await seed.manager.get(`/api/skus?sort=code&cursor=${next}`), 400, { fields: ['query.cursor'] });
  assertProblem(await seed.manager.get(`/api/skus?cursor=${next}`), 400, { fields: ['query.cursor'] });
  assertProblem(await seed.manager.get(`/api/skus?sort=name&category=dairy&cursor=${next}`), 400, { fields: ['query.cursor'] });
  assertProblem(await seed.manager.get(`/api/skus?sort=name&q=a&cursor=${next}`), 400, { fields: ['query.cursor'] });
  assertProblem(await seed.manager.get(`/api/users?sort=displayName&cursor=${next}`), 400, { fields: ['query.cursor'] });
  assert.is((await seed.manager.get(`/api/skus?sort=name&limit=20&cursor=${next}`)).statusCode, 200, 'the page size may change between pages');
  const store = await seed.manager.get(`/api/inventory/stores/${seed.staffStoreIds[0]}?limit=2`);
  const storeNext = ok<PageBody<unknown>>(store).next;
  assert.ok(storeNext);
  assertProblem(await seed.manager.get(`/api/inventory/stores/${seed.staffStoreIds[1]}?limit=2&cursor=${storeNext}`), 400, { fields: ['query.cursor'] });
});

test('X-Min-Position: malformed is 400 naming the header', async ({ seed }) => {
  for (const value of ['abc', '-1', '1.5', '99999999999999999999', '0x10']) {
    assertProblem(await seed.manager.get('/api/skus', { 'x-min-position': value }), 400, { fields: ['headers.x-min-position'] });
  }
});

test('X-Min-Position: already reached answers at once, with the position it read', async ({ harness, seed }) => {
  await setProgress(harness, [100n, 150n, 120n]);
  const started = Date.now();
  const response = await seed.manager.get('/api/skus?limit=1', { 'x-min-position': '100' });
  assert.is(response.statusCode, 200, response.body);
  assert.ok(Date.now() - started < TIMEOUT_MS, 'no wait');
  assert.is(response.headers['x-read-position'], '100', 'the watermark is the least partition');
  assert.is((await seed.manager.get('/api/stores', { 'x-min-position': '0' })).statusCode, 200);
});

test('X-Min-Position: a read model behind past the bound is 503 with Retry-After: 1', async ({ harness, seed }) => {
  await setProgress(harness, [100n, 150n, 120n]);
  const started = Date.now();
  const response = await seed.manager.get('/api/inventory', { 'x-min-position': '101' });
  const waited = Date.now() - started;
  const body = assertProblem(response, 503, { type: 'read-model-behind' });
  assert.is(response.headers['retry-after'], '1');
  assert.ok(waited >= TIMEOUT_MS, `waited the bound (${waited} ms)`);
  assert.ok(waited < TIMEOUT_MS + 1000, `and not much more (${waited} ms)`);
  assert.is(body.position, '101');
  assert.is(body.readPosition, '100');

  await setProgress(harness, []);
  const empty = await seed.manager.get(`/api/stores/${seed.staffStoreIds[0]}`, { 'x-min-position': '1' });
  assertProblem(empty, 503);
  assert.is(empty.headers['x-read-position'], '0', 'no progress rows: position 0');
});

test('X-Min-Position: a position reached during the wait answers 200', async ({ harness, seed }) => {
  await setProgress(harness, [100n, 150n, 120n]);
  const started = Date.now();
  const pending = seed.staff.get(`/api/inventory/stores/${seed.staffStoreIds[0]}?limit=3`, { 'x-min-position': '140' });
  await sleep(100);
  await setProgress(harness, [140n, 150n, 141n]);
  const response = await pending;
  const waited = Date.now() - started;
  assert.is(response.statusCode, 200, response.body);
  assert.ok(waited >= 100 && waited < TIMEOUT_MS, `answered once reached (${waited} ms)`);
  assert.is(response.headers['x-read-position'], '140');
  assert.is(ok<PageBody<unknown>>(response).items.length, 3);
});

test('X-Min-Position: many waiting requests together all answer when the position is reached', async ({ harness, seed }) => {
  await setProgress(harness, [200n]);
  const pending = Array.from({ length: 20 }, (_, index) =>
    seed.auditor.get(index % 2 ? '/api/skus?limit=2' : '/api/reports/inventory', { 'x-min-position': '250' }),
  );
  await sleep(50);
  await setProgress(harness, [250n]);
  for (const response of await Promise.all(pending)) assert.is(response.statusCode, 200, response.body);
});

test('X-Min-Position: a point read waits only for the partition of its stream, a list for every partition', async ({ harness, seed }) => {
  const storeId = seed.staffStoreIds[0]!;
  const own = partitionOf(storeStream(storeId), 3);
  const through = (ownAt: bigint, othersAt: bigint) => [0, 1, 2].map((partition) => (partition === own ? ownAt : othersAt));

  // Its own partition has passed the position, the two others have not: the point read answers at once.
  await setProgress(harness, through(500n, 100n));
  const started = Date.now();
  const point = await seed.manager.get(`/api/stores/${storeId}`, { 'x-min-position': '400' });
  assert.is(point.statusCode, 200, point.body);
  assert.ok(Date.now() - started < TIMEOUT_MS, 'no wait on the other partitions');
  assert.is(point.headers['x-read-position'], '500', "the watermark of the stream's own partition");
  // A list reads every stream, so it waits for the least partition.
  assertProblem(await seed.manager.get('/api/stores', { 'x-min-position': '400' }), 503, { type: 'read-model-behind' });

  // Its own partition behind, the others ahead: the point read waits, and is refused past the bound.
  await setProgress(harness, through(100n, 500n));
  const behind = assertProblem(await seed.manager.get(`/api/stores/${storeId}`, { 'x-min-position': '400' }), 503, { type: 'read-model-behind' });
  assert.is(behind.readPosition, '100');
});

test('X-Min-Position: no token is 401 at once, without waiting', async ({ harness }) => {
  await setProgress(harness, [1n]);
  const started = Date.now();
  const response = await harness.app.inject({ method: 'GET', url: '/api/skus', headers: { 'x-min-position': '999' } });
  assertProblem(response, 401);
  assert.ok(Date.now() - started < TIMEOUT_MS);
});

test.run();
