import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Notifier } from '../../../src/projections/notifier/notifier.js';
import type { KafkaBus } from '../../../src/shared/event-bus/kafka.js';
import { partitionOf } from '../../../src/shared/event-bus/partition.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import type { StockChange } from '../../../src/shared/live/stock-changes.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { kafkaBrokers, testBus } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';

/**
 * The notifier releases changes in global position order, whatever order the partitions
 * deliver them in: a change waits until every partition's watermark has passed it.
 */
const test = suite<{ db: TestDatabase; bus: KafkaBus; notifier: Notifier; seen: StockChange[] }>('live: the notifier releases in position order');

const PARTITIONS = 3;
const GROUP = `stockroom-test-notifier-${randomUUID()}`;
const storeId = randomUUID();

/** A stock item whose stream lands in `partition`. */
const itemIn = (partition: number): { skuId: string; streamId: string } => {
  for (;;) {
    const skuId = randomUUID();
    const streamId = `stockitem-${storeId}_${skuId}`;
    if (partitionOf(streamId, PARTITIONS) === partition) return { skuId, streamId };
  }
};

const added = (item: { skuId: string; streamId: string }, position: bigint): RecordedEvent => ({
  id: randomUUID(),
  streamId: item.streamId,
  type: 'StockItemAdded',
  data: { storeId, skuId: item.skuId, quantity: Number(position), lowStockThreshold: 1 },
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 },
  revision: 0,
  position,
  recordedAt: new Date(),
});

test.before(async (context) => {
  context.db = await createTestDatabase('notifier');
  context.bus = testBus('notifier', PARTITIONS);
  await context.bus.ensureTopic();
  context.notifier = new Notifier({ bus: context.bus, store: new PostgresEventStore(context.db.pool), log: quietLog, group: GROUP });
  await context.notifier.start();
  context.seen = [];
  context.notifier.listen((changes) => context.seen.push(...changes));
});
test.after(async ({ db, bus, notifier }) => {
  await notifier.stop();
  await bus.close();
  await db.drop();
});

test('a later position delivered first is held until every partition has passed the earlier one', async ({ bus, seen }) => {
  const early = itemIn(0);
  const late = itemIn(1);
  // Position 11 goes out first, claiming only "everything up to 9": it must wait.
  await bus.publish([added(late, 11n)], 9n);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(seen, [], 'nothing released while an earlier position may still come');
  await bus.publish([added(early, 10n)], 11n);
  const deadline = Date.now() + 15_000;
  while (seen.length < 2) {
    assert.ok(Date.now() < deadline, `released ${seen.length} of 2`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(seen.map((change) => [change.position, change.skuId]), [[10n, early.skuId], [11n, late.skuId]]);

  // The same events again (the bus delivers at least once): nothing more is released.
  await bus.publish([added(early, 10n), added(late, 11n)], 11n);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.is(seen.length, 2);
});

test('the live group commits what it has read, so a restart of its consumer resumes instead of jumping to the end', async ({ bus }) => {
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topic } = bus;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [topic] });
      const committed = (offsets?.partitions ?? []).filter((partition) => Number(partition.offset) > 0);
      if (committed.length === PARTITIONS) break;
      assert.ok(Date.now() < deadline, `committed on ${committed.length} of ${PARTITIONS} partitions`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
});

test.run();
