import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type pg from 'pg';
import { createAppendPool } from '../../src/shared/db/pool.js';
import type { ReadStreamOptions, RecordedEvent } from '../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { newId } from '../../src/shared/ids.js';
import { stockItems } from '../../src/write/aggregates.js';
import { type CommandContext, CommandHandler } from '../../src/write/command-handler.js';
import { stockItemStream } from '../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** A store that counts its stream reads. */
class CountingStore extends PostgresEventStore {
  reads = 0;
  override readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.reads += 1;
    return super.readStream(streamId, options);
  }
}

/**
 * Two replicas through plain pg: a command decided on a cache another replica moved past
 * loses its append, and the conflict carries the events it missed (WrongExpectedRevision.missed):
 * it decides again on them without reading the stream.
 */
const test = suite<{ db: TestDatabase; appendPool: pg.Pool }>('command handler: a lost append catches up from the conflict');

test.before(async (context) => {
  context.db = await createTestDatabase('handler_missed');
  context.appendPool = createAppendPool(context.db.url);
});
test.after(async ({ db, appendPool }) => {
  await appendPool.end();
  await db.drop();
});

const context = (): CommandContext => ({ actor: null, correlationId: newId(), now: new Date() });

test('a stale cache catches up from the conflict alone, no read; the state and chain are the truth', async ({ db, appendPool }) => {
  const store = new CountingStore(db.pool, appendPool);
  const a = new CommandHandler(store);
  const b = new CommandHandler(store);
  const storeId = newId();
  const skuId = newId();
  const stream = stockItemStream(storeId, skuId);
  const adjust = (handler: CommandHandler, delta: number) =>
    handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta, reason: delta > 0 ? 'received' : 'sold', note: null }, context());
  await a.handle(stockItems, stream, { type: 'AddStockItem', storeId, skuId, quantity: 5, lowStockThreshold: 0, storeStatus: 'open', skuExists: true }, context());
  await b.load(stockItems, stream); // b caches revision 0
  for (const delta of [1, 2, 3]) await adjust(a, delta);
  const before = store.reads;
  const handled = await adjust(b, -4);
  assert.is(store.reads - before, 0, 'no stream read after the lost append');
  assert.is(handled.revision, 4);
  assert.equal(handled.state.status === 'present' && handled.state.quantity, 7);
  // b's chain head is the truth's: a fresh replica folding the stream agrees, and the next append chains on.
  const fresh = await new CommandHandler(store).load(stockItems, stream);
  assert.equal({ revision: fresh.revision, hash: fresh.hash, state: fresh.state }, { revision: handled.revision, hash: handled.hash, state: handled.state });
  await adjust(a, 1);
  const last = await adjust(b, 1);
  assert.is(last.revision, 6);
});

test.run();
