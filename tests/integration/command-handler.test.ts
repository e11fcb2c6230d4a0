import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InsufficientStock } from '../../src/shared/domain-errors.js';
import { VersionConflict } from '../../src/shared/errors.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import type { AppendResult, EventToAppend, ExpectedRevision } from '../../src/shared/event-store/port.js';
import { newId } from '../../src/shared/ids.js';
import { stockItems } from '../../src/write/aggregates.js';
import { type CommandContext, CommandHandler, Contended } from '../../src/write/command-handler.js';
import { stockItemStream } from '../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Two command handlers on one event store stand for two write-api replicas: their caches
 * go stale behind each other's backs, and only the expected revision keeps them honest.
 */
const test = suite<{ db: TestDatabase; store: PostgresEventStore }>('command handler: two replicas on one stream');

test.before(async (context) => {
  context.db = await createTestDatabase('handler');
  context.store = new PostgresEventStore(context.db.pool);
});
test.after(async ({ db }) => db.drop());

const context = (extra: Partial<CommandContext> = {}): CommandContext => ({ actor: null, correlationId: newId(), now: new Date(), ...extra });

async function newItem(handler: CommandHandler, quantity: number) {
  const storeId = newId();
  const skuId = newId();
  await handler.handle(
    stockItems,
    stockItemStream(storeId, skuId),
    { type: 'AddStockItem', storeId, skuId, quantity, lowStockThreshold: 0, storeStatus: 'open', skuExists: true },
    context(),
  );
  return { storeId, skuId, stream: stockItemStream(storeId, skuId) };
}

test('concurrent delta adjustments from two replicas all land: the loser decides again', async ({ store }) => {
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 0);
  await b.load(stockItems, stream); // b caches revision 0, soon stale
  const receive = (handler: CommandHandler) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, context());
  await Promise.all(Array.from({ length: 10 }, (_, i) => receive(i % 2 === 0 ? a : b)));
  const final = await new CommandHandler(store).load(stockItems, stream);
  assert.is(final.revision, 10);
  assert.equal(final.state.status === 'present' && final.state.quantity, 10);
});

test('stock never goes negative across replicas', async ({ store }) => {
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 5);
  await b.load(stockItems, stream);
  const sell = (handler: CommandHandler) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: -1, reason: 'sold', note: null }, context());
  const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => sell(i % 2 === 0 ? a : b)));
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 5);
  for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, InsufficientStock);
  const final = await new CommandHandler(store).load(stockItems, stream);
  assert.equal(final.state.status === 'present' && final.state.quantity, 0);
});

test('with If-Match a stale version is a conflict carrying the current revision, and nothing is written', async ({ store }) => {
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 5);
  await a.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, context());
  const head = await store.headPosition();
  try {
    await b.handle(stockItems, stream, { type: 'CountStock', storeId, skuId, countedQuantity: 3, note: null }, context({ ifMatch: 0 }));
    assert.unreachable('a stale If-Match must conflict');
  } catch (error) {
    assert.instance(error, VersionConflict);
    assert.is((error as VersionConflict).currentRevision, 1);
  }
  assert.is(await store.headPosition(), head);
});

test('a refusal decided on a stale cache is checked again on the fresh stream', async ({ store }) => {
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 1);
  await b.load(stockItems, stream); // b believes 1 in stock
  await a.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 9, reason: 'received', note: null }, context());
  // On b's stale state selling 5 is refused; on the truth (10) it is fine.
  const sold = await b.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: -5, reason: 'sold', note: null }, context());
  assert.equal(sold.state.status === 'present' && sold.state.quantity, 5);
});

test('the same idempotency scope and key append once, even decided twice on different states', async ({ store }) => {
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 10);
  const keyed = context({ idempotency: { scope: 'user-1', key: 'sale-7' } });
  const sell = { type: 'AdjustStock' as const, storeId, skuId, delta: -2, reason: 'sold' as const, note: null };
  const first = await a.handle(stockItems, stream, sell, keyed);
  await a.handle(stockItems, stream, { ...sell, delta: -1 }, context()); // someone else sells meanwhile
  const repeat = await b.handle(stockItems, stream, sell, keyed);
  assert.is(repeat.written, false);
  assert.is(repeat.position, first.position);
  const final = await new CommandHandler(store).load(stockItems, stream);
  assert.equal(final.state.status === 'present' && final.state.quantity, 7);
});

test('without If-Match, losing races past the deadline is a 503 Contended with Retry-After, never a 409', async ({ store }) => {
  const a = new CommandHandler(store);
  const impatient = new CommandHandler(store, { contentionDeadlineMs: 0 });
  const { storeId, skuId, stream } = await newItem(a, 0);
  await impatient.load(stockItems, stream); // caches revision 0
  const receive = (handler: CommandHandler) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, context());
  await receive(a); // the impatient replica's cache is now stale: its next append loses
  const head = await store.headPosition();
  try {
    await receive(impatient);
    assert.unreachable('a lost race past the deadline must be refused');
  } catch (error) {
    assert.instance(error, Contended);
    assert.is((error as Contended).status, 503);
    assert.is((error as Contended).extra.retryAfterSeconds, 1);
  }
  assert.is(await store.headPosition(), head, 'nothing written');
});

/** Counts the appends that reach the store, and the events in each. */
class CountingStore extends PostgresEventStore {
  readonly appends: number[] = [];
  override async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.appends.push(events.length);
    return super.append(streamId, events, expected);
  }
}

test('commands queued on one stream are decided in turn and appended together; refusals write nothing', async ({ db }) => {
  const store = new CountingStore(db.pool);
  const handler = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(handler, 3);
  store.appends.length = 0;
  const adjust = (delta: number) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta, reason: delta > 0 ? 'received' : 'sold', note: null }, context());
  // 3 in stock: the sales beyond it are refused, whatever the batch they fall in.
  const deltas = [-2, -2, 1, -2, 5, -9, -1, 2, -4, -4];
  const results = await Promise.allSettled(deltas.map(adjust));
  let quantity = 3;
  let revision = 0;
  results.forEach((result, index) => {
    const delta = deltas[index]!;
    if (quantity + delta < 0) {
      assert.is(result.status, 'rejected', `delta ${delta} on ${quantity} must be refused`);
      if (result.status === 'rejected') assert.instance(result.reason, InsufficientStock);
      return;
    }
    quantity += delta;
    revision += 1;
    assert.is(result.status, 'fulfilled', `delta ${delta} must land`);
    if (result.status === 'fulfilled') {
      assert.is(result.value.revision, revision, 'each answer carries its own revision');
      assert.equal(result.value.state.status === 'present' && result.value.state.quantity, quantity, 'and the state after its own events');
      assert.ok(result.value.written);
    }
  });
  assert.ok(store.appends.length < revision, `${revision} commands in ${store.appends.length} appends`);
  assert.is(store.appends.reduce((sum, events) => sum + events, 0), revision, 'one event per command that landed');
  const final = await new CommandHandler(store).load(stockItems, stream);
  assert.is(final.revision, revision);
  assert.equal(final.state.status === 'present' && final.state.quantity, quantity);
});

// What a batch does when its append loses is the next test's (MovedOnStore): here the first
// command loses alone and the three queued behind it are decided on the truth it caught up to.
test('a replica behind on an item sells only what is left, however its commands queue', async ({ db }) => {
  const store = new PostgresEventStore(db.pool);
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const { storeId, skuId, stream } = await newItem(a, 4);
  await b.load(stockItems, stream); // b believes 4
  await a.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: -3, reason: 'sold', note: null }, context()); // truth: 1
  const sell = () => b.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: -1, reason: 'sold', note: null }, context());
  const results = await Promise.allSettled([sell(), sell(), sell(), sell()]);
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 1, 'only the one unit left is sold');
  for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, InsufficientStock);
  const final = await new CommandHandler(store).load(stockItems, stream);
  assert.equal(final.state.status === 'present' && final.state.quantity, 0);
  assert.is(final.revision, 2);
});

test('a refusal decided with others on a stale cache is not answered until an append proves that state', async ({ db }) => {
  const plain = new PostgresEventStore(db.pool);
  const a = new CommandHandler(plain);
  const { storeId, skuId, stream } = await newItem(a, 2);
  const adjust = (handler: CommandHandler, delta: number) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta, reason: delta > 0 ? 'received' : 'sold', note: null }, context());
  // Right after b's first append, another replica receives 9: b's cache is then behind.
  let moved = false;
  class MovedOnStore extends PostgresEventStore {
    override async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      const result = await super.append(streamId, events, expected);
      if (!moved) {
        moved = true;
        await adjust(a, 9);
      }
      return result;
    }
  }
  const b = new CommandHandler(new MovedOnStore(db.pool));
  await b.load(stockItems, stream); // 2
  // The first runs alone (b then believes 1); the next two queue behind it and go together:
  // on b's stale 1, selling 5 would be refused, on the truth (10) both sales land.
  const [first, five, one] = await Promise.allSettled([adjust(b, -1), adjust(b, -5), adjust(b, -1)]);
  assert.is(first.status, 'fulfilled');
  assert.is(five.status, 'fulfilled', five.status === 'rejected' ? String(five.reason) : '');
  assert.is(one.status, 'fulfilled');
  const final = await new CommandHandler(plain).load(stockItems, stream);
  assert.equal(final.state.status === 'present' && final.state.quantity, 4);
  assert.is(final.revision, 4);
});

test.run();
