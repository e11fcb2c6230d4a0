import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Notifier } from '../../../src/projections/notifier/notifier.js';
import type { KafkaBus } from '../../../src/shared/event-bus/kafka.js';
import type { EventToAppend, RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import type { StockChange } from '../../../src/shared/live/stock-changes.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { testBus } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';

/**
 * A stock item event this release cannot read (a newer schema, bad data) stops its stream,
 * not every live client: the notifier goes on releasing the changes of every other item,
 * live and in a replay, instead of failing the batch (or the replay) for ever while its
 * held changes pile up.
 */
const test = suite<{ db: TestDatabase; store: PostgresEventStore; bus: KafkaBus; notifier: Notifier; seen: StockChange[] }>('live: a poison event stops its stream only');

const storeId = randomUUID();
const streamOf = (skuId: string) => `stockitem-${storeId}_${skuId}`;

const added = (skuId: string): EventToAppend => ({
  id: randomUUID(),
  type: 'StockItemAdded',
  data: { storeId, skuId, quantity: 7, lowStockThreshold: 2 },
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
});
const poison = (): EventToAppend => ({ ...added(randomUUID()), data: { quantity: 'lots' } });

const recorded = (event: EventToAppend, skuId: string, position: bigint): RecordedEvent => ({
  ...event,
  streamId: streamOf(skuId),
  revision: 0,
  position,
  recordedAt: new Date(),
});

const until = async (done: () => boolean, what: string) => {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

test.before(async (context) => {
  context.db = await createTestDatabase('notifier_poison');
  context.store = new PostgresEventStore(context.db.pool);
  context.bus = testBus('notifier-poison', 1);
  await context.bus.ensureTopic();
  context.notifier = new Notifier({ bus: context.bus, store: context.store, log: quietLog });
  await context.notifier.start();
  context.seen = [];
  context.notifier.listen((changes) => context.seen.push(...changes));
});
test.after(async ({ db, bus, notifier }) => {
  await notifier.stop();
  await bus.close();
  await db.drop();
});

test('live: the changes after an unreadable event are released', async ({ bus, seen }) => {
  const bad = randomUUID();
  const good = randomUUID();
  await bus.publish([recorded(poison(), bad, 40n), recorded(added(good), good, 41n)], 41n);
  await until(() => seen.some((change) => change.skuId === good), 'the change at 41 was never released');
  assert.equal(seen.map((change) => change.position), [41n]);
});

test('replay: a client whose `since` lies before an unreadable event gets what follows it', async ({ store, notifier }) => {
  const bad = randomUUID();
  const good = randomUUID();
  const before = await store.headPosition();
  await store.append(streamOf(bad), [poison()], 'no_stream');
  const written = await store.append(streamOf(good), [added(good)], 'no_stream');
  const replayed: StockChange[] = [];
  const through = await Promise.race([
    notifier.replay({ after: before, storeIds: new Set([storeId]), onChanges: async (changes) => void replayed.push(...changes) }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the replay did not finish')), 10_000)),
  ]);
  assert.equal(replayed.map((change) => change.skuId), [good]);
  assert.is(through, written.position);
});

test.run();
