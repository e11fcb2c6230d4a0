import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seedStore } from '../../support/app.js';
import { type Frame, TestSocket } from '../../support/ws-client.js';
import { type LiveCluster, startLiveCluster } from './support.js';

/**
 * `/ws` through the real pipeline: a write API and forwarder on one side, two read API
 * processes each with its own notifier on the other, a real Kafka broker between them.
 */
const test = suite<{ cluster: LiveCluster }>('live: /ws across two read API processes');

const stockFrames = (socket: TestSocket, skuId?: string) => socket.of('stock').filter((frame) => !skuId || frame.skuId === skuId);

async function subscribed(socket: TestSocket, frame: Record<string, unknown>): Promise<Frame> {
  const before = socket.of('subscribed').length;
  socket.send({ type: 'subscribe', ...frame });
  await socket.until(() => socket.of('subscribed').length > before, 10_000, 'subscribed');
  return socket.of('subscribed').at(-1)!;
}

test.before(async (context) => {
  context.cluster = await startLiveCluster('ws', {
    // The second process pings often (a deaf client is dropped quickly); the first rarely
    // (a client that stops reading meets the buffer bound first).
    liveOptions: (index) => ({
      recheckMs: 200,
      pingMs: index === 0 ? 30_000 : 400,
      limits: { authTimeoutMs: 1_000, maxBufferedBytes: 256 * 1024, drainTimeoutMs: 1_000 },
    }),
  });
});
test.after(async ({ cluster }) => cluster.close());

test('a change made through the write API reaches subscribed clients on both read processes, with every field', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 10);
  const [one, two] = await Promise.all(readers.map((reader) => TestSocket.open(reader.url, manager.token)));
  for (const socket of [one!, two!]) await subscribed(socket, { storeIds: [seeded.storeId] });

  const sold = await manager.patch(seeded.itemUrl, { delta: -8, reason: 'sold' });
  assert.is(sold.statusCode, 200, sold.body);
  const { revision, position } = sold.json<{ revision: number; position: string }>();

  for (const socket of [one!, two!]) {
    await socket.until(() => stockFrames(socket).length === 1, 15_000, 'the stock frame');
    const frame = stockFrames(socket)[0]!;
    assert.equal(
      { ...frame, at: typeof frame.at },
      {
        type: 'stock',
        storeId: seeded.storeId,
        skuId: seeded.skuId,
        quantity: 2,
        lowStockThreshold: 3,
        removed: false,
        revision,
        position,
        event: 'StockAdjusted',
        reason: 'sold',
        actor: frame.actor,
        at: 'string',
      },
    );
    assert.type(frame.actor, 'string');
  }

  // A threshold change carries the quantity too, and a removal says so.
  await manager.patch(seeded.itemUrl, { lowStockThreshold: 1 });
  await manager.delete(seeded.itemUrl);
  for (const socket of [one!, two!]) {
    await socket.until(() => stockFrames(socket).length === 3, 15_000, 'three frames');
    const [, threshold, removed] = stockFrames(socket);
    assert.equal([threshold!.event, threshold!.quantity, threshold!.lowStockThreshold], ['LowStockThresholdChanged', 2, 1]);
    assert.equal([removed!.event, removed!.removed, removed!.quantity], ['StockItemRemoved', true, 0]);
    socket.close();
  }
});

test('a client that drops and resumes from its last position misses nothing and repeats nothing', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 100);
  const first = await TestSocket.open(readers[0]!.url, manager.token);
  await subscribed(first, { storeIds: [seeded.storeId] });
  for (let sale = 0; sale < 3; sale += 1) await manager.patch(seeded.itemUrl, { delta: -1, reason: 'sold' });
  await first.until(() => stockFrames(first).length === 3, 15_000, 'three sales');
  const last = stockFrames(first).at(-1)!.position as string;
  first.close();

  // While away: five more changes, some still being forwarded when it comes back.
  const positions: string[] = [];
  for (let sale = 0; sale < 5; sale += 1) positions.push((await manager.patch(seeded.itemUrl, { delta: -1, reason: 'sold' })).json<{ position: string }>().position);
  const again = await TestSocket.open(readers[1]!.url, manager.token);
  const answer = await subscribed(again, { storeIds: [seeded.storeId], since: last });
  assert.is(answer.position, last);
  for (let sale = 0; sale < 2; sale += 1) positions.push((await manager.patch(seeded.itemUrl, { delta: -1, reason: 'sold' })).json<{ position: string }>().position);

  await again.until(() => stockFrames(again).length >= 7, 15_000, 'seven changes');
  await new Promise((resolve) => setTimeout(resolve, 500)); // a repeat would arrive by now
  const got = stockFrames(again);
  assert.equal(got.map((frame) => frame.position), positions, 'every change after `since`, once, in order');
  assert.equal(got.map((frame) => frame.quantity), [96, 95, 94, 93, 92, 91, 90]);
  again.close();
});

test('without `since`, the subscription starts at the head it names and brings only later changes', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 5);
  const socket = await TestSocket.open(readers[1]!.url, manager.token);
  const answer = await subscribed(socket, { storeIds: [seeded.storeId] });
  assert.ok(BigInt(answer.position as string) > 0n);
  const written = (await manager.patch(seeded.itemUrl, { delta: 4, reason: 'received' })).json<{ position: string }>();
  await socket.until(() => stockFrames(socket).length === 1, 15_000, 'the receipt');
  assert.is(stockFrames(socket)[0]!.position, written.position);
  assert.ok(BigInt(written.position) > BigInt(answer.position as string));
  socket.close();
});

test('the token may come as the first frame; staff are refused other stores by name and the socket stays up', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const mine = await seedStore(cluster.writer, manager, 10);
  const other = await seedStore(cluster.writer, manager, 10);
  const socket = await TestSocket.open(readers[0]!.url);
  socket.send({ type: 'subscribe', storeIds: [mine.storeId] });
  await socket.until((frames) => frames.some((frame) => frame.code === 'not-authenticated'), 5_000, 'not-authenticated');
  socket.send({ type: 'authenticate', token: mine.staff.token });
  await socket.until(() => socket.of('authenticated').length === 1, 5_000, 'authenticated');

  socket.send({ type: 'subscribe', storeIds: [mine.storeId, other.storeId] });
  await socket.until((frames) => frames.some((frame) => frame.code === 'forbidden-store'), 5_000, 'forbidden-store');
  const refusal = socket.frames.find((frame) => frame.code === 'forbidden-store')!;
  assert.match(refusal.detail as string, other.storeId);
  assert.not.match(refusal.detail as string, mine.storeId);

  await subscribed(socket, { storeIds: [mine.storeId] });
  await mine.staff.patch(mine.itemUrl, { delta: -1, reason: 'sold' });
  await manager.patch(other.itemUrl, { delta: -1, reason: 'sold' });
  await socket.until(() => stockFrames(socket).length === 1, 15_000, 'own store change');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(stockFrames(socket).map((frame) => frame.storeId), [mine.storeId], 'nothing of the other store');
  socket.close();
});

test('bad frames get an error frame naming the problem and the connection stays up', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 10);
  const socket = await TestSocket.open(readers[0]!.url, manager.token);
  socket.send('this is not json');
  socket.send({ type: 'dance' });
  socket.send({ type: 'subscribe', storeIds: [seeded.storeId], since: '12abc' });
  socket.send({ type: 'subscribe', storeIds: ['not-a-uuid'] });
  socket.send([1, 2]);
  await socket.until(() => socket.of('error').length === 5, 5_000, 'five errors');
  const errors = socket.of('error');
  assert.equal(errors.map((frame) => frame.code), ['invalid-json', 'unknown-type', 'invalid-frame', 'invalid-frame', 'invalid-frame']);
  assert.match(errors[1]!.detail as string, 'dance');
  assert.match(errors[2]!.detail as string, 'since');
  assert.match(errors[3]!.detail as string, 'storeIds');
  await subscribed(socket, { storeIds: [seeded.storeId] });
  assert.is(socket.closed, null);
  socket.close();
});

test('a `since` beyond every position written is refused by an error frame, not answered with silence', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 10);
  const socket = await TestSocket.open(readers[0]!.url, manager.token);
  // A position from another database (a restore, another deployment): no change could ever follow it.
  socket.send({ type: 'subscribe', storeIds: [seeded.storeId], since: '9000000000000000000' });
  await socket.until(() => socket.of('error').length + socket.of('subscribed').length > 0, 5_000, 'an answer');
  assert.equal(socket.of('subscribed'), []);
  assert.equal(socket.of('error').map((frame) => frame.code), ['invalid-frame']);
  assert.match(socket.of('error')[0]!.detail as string, 'since');
  assert.is(socket.closed, null);
  socket.close();
});

test('logout closes the socket with 4401 within a second; an expired token too; no token in time too', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 10);
  const socket = await TestSocket.open(readers[1]!.url, seeded.staff.token);
  await subscribed(socket, { storeIds: [seeded.storeId] });
  const loggedOut = await seeded.staff.post('/api/auth/logout');
  assert.is(loggedOut.statusCode, 204);
  const started = Date.now();
  const closed = await socket.closing(3_000);
  assert.is(closed.code, 4401);
  assert.ok(Date.now() - started < 1_000, `closed after ${Date.now() - started} ms`);

  // A token signed to expire in a second, by the same key.
  const claims = readers[0]!.app.jwt.decode<Record<string, unknown>>(manager.token)!;
  const { exp: _exp, iat: _iat, ...rest } = claims;
  const short = readers[0]!.app.jwt.sign(rest, { expiresIn: 1 });
  const expiring = await TestSocket.open(readers[0]!.url, short);
  assert.is((await expiring.closing(3_000)).code, 4401);
  assert.match(expiring.closed!.reason, /expired/);

  const silent = await TestSocket.open(readers[0]!.url);
  assert.is((await silent.closing(3_000)).code, 4401);
});

test('a bad token in the upgrade header is a 401 before any upgrade', async ({ cluster }) => {
  try {
    await TestSocket.open(cluster.readers[0]!.url, 'not-a-token');
    assert.unreachable('the upgrade should be refused');
  } catch (error) {
    assert.match((error as Error).message, /401/);
  }
});

test('a frame over the bound or a flood of frames closes that connection only', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const big = await TestSocket.open(readers[0]!.url, manager.token);
  const bystander = await TestSocket.open(readers[0]!.url, manager.token);
  big.send({ type: 'authenticate', token: 'x'.repeat(10_000) });
  assert.is((await big.closing()).code, 1009);
  const flood = await TestSocket.open(readers[0]!.url, manager.token);
  for (let frame = 0; frame < 200; frame += 1) flood.send({ type: 'unsubscribe', storeIds: ['0190a1b2-0000-7000-8000-000000000000'] });
  assert.is((await flood.closing()).code, 1008);
  assert.is(bystander.closed, null);
  bystander.close();
});

test('a client that stops reading is closed with 1013; the server does not buffer for it', async ({ cluster }) => {
  const { manager, readers } = cluster;
  const seeded = await seedStore(cluster.writer, manager, 10);
  // A long history, written straight to the event store: 40,000 receipts of one unit.
  const stream = `stockitem-${seeded.storeId}_${seeded.skuId}`;
  let revision = await cluster.eventStore.streamRevision(stream);
  for (let batch = 0; batch < 40; batch += 1) {
    const events = Array.from({ length: 1_000 }, (_, index) => ({
      id: randomUUID(),
      type: 'StockAdjusted',
      data: { delta: 1, reason: 'received', note: null, quantityAfter: 11 + batch * 1_000 + index },
      metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
    }));
    revision = (await cluster.eventStore.append(stream, events, revision)).revision;
  }
  const server = readers[0]!.app;
  const slow = await TestSocket.open(readers[0]!.url, manager.token);
  const open = server.liveConnections();
  slow.socket.pause();
  slow.send({ type: 'subscribe', storeIds: [seeded.storeId], since: '0' });
  // Its unsent frames pass the bound within moments and stay there: after 1 s (here) the server
  // closes it with 1013, and drops it 5 s later if it still does not read. Read as soon as the
  // server has begun to close it: the close frame waits behind what was buffered.
  const closing = () => [...server.websocketServer.clients].some((socket) => socket.readyState === socket.CLOSING);
  const until = Date.now() + 30_000;
  while (!closing()) {
    assert.ok(Date.now() < until, 'the server never let the slow client go');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  slow.socket.resume();
  const closed = await slow.closing(10_000);
  assert.is(closed.code, 1013, `${JSON.stringify(closed)} after ${slow.counts.get('stock')} frames`);
  assert.ok((slow.counts.get('stock') ?? 0) < 40_001, 'it did not get the whole history buffered for it');
  const deadline = Date.now() + 5_000;
  while (server.liveConnections() >= open) {
    assert.ok(Date.now() < deadline, 'the slow client is still held');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // One that reads gets all of it, in order.
  const reader = await TestSocket.open(readers[0]!.url, manager.token);
  reader.send({ type: 'subscribe', storeIds: [seeded.storeId], since: '0' });
  await reader.until(() => (reader.counts.get('stock') ?? 0) >= 40_001, 60_000, 'the whole history');
  const quantities = stockFrames(reader).map((frame) => frame.quantity as number);
  assert.equal(quantities, Array.from({ length: 40_001 }, (_, index) => 10 + index));
  reader.close();
});

test('a client that stops answering pings is dropped', async ({ cluster }) => {
  const deaf = await TestSocket.open(cluster.readers[1]!.url, cluster.manager.token, { autoPong: false });
  const closed = await deaf.closing(5_000);
  assert.is(closed.code, 1006, 'terminated, without a close handshake');
});

test.run();
