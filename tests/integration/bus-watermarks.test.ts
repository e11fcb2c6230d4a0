import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KafkaBus, WATERMARK_INTERVAL_MS } from '../../src/shared/event-bus/kafka.js';
import type { RecordedEvent } from '../../src/shared/event-store/port.js';
import { kafkaBrokers } from '../support/kafka.js';

/** Issue 9, item 7: the topic held more watermark messages than events (one per partition per batch). */
const test = suite('Kafka bus: watermarks when a partition has been idle, or on a timer');

const event = (position: bigint): RecordedEvent => ({
  id: randomUUID(),
  streamId: `stock-item-${randomUUID()}`,
  type: 'StockAdjusted',
  data: { delta: 1, reason: 'received', note: null, reference: null, quantityAfter: 1 },
  metadata: { actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 },
  revision: 1,
  position,
  recordedAt: new Date(),
});

test('60 batches back to back: watermarks at most one round per interval, fewer than one per partition per batch, and every partition still learns the last position', async () => {
  const topic = `stockroom-test-watermarks-${randomBytes(3).toString('hex')}`;
  const partitions = 6;
  const bus = new KafkaBus({ brokers: kafkaBrokers(), topic, partitions });
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const batches = 60;
    const started = Date.now();
    for (let position = 1n; position <= BigInt(batches); position += 1n) await bus.publish([event(position)], position);
    const publishedMs = Date.now() - started;
    // The timer sends what is still owed once the interval has passed.
    await sleep(WATERMARK_INTERVAL_MS * 4);

    const offsets = await admin.fetchTopicOffsets(topic);
    const messages = offsets.reduce((sum, { offset }) => sum + Number(offset), 0);
    const watermarks = messages - batches;
    // At most one round per interval while batches come, plus the first and the timer's;
    // one round per batch (the old rule) would be ${batches * partitions} messages.
    const rounds = Math.floor(publishedMs / WATERMARK_INTERVAL_MS) + 2;
    assert.ok(watermarks <= rounds * partitions, `${watermarks} watermark messages in ${publishedMs} ms of ${batches} batches: more than ${rounds} rounds`);
    assert.ok(watermarks < batches * partitions, `${watermarks} watermark messages for ${batches} batches: one round per batch`);

    // Each partition's last message (event or watermark) says the last position: an idle partition does not hold the minimum back.
    const last = new Map<number, bigint>();
    const subscription = await bus.subscribe({
      group: `watermarks-${randomBytes(3).toString('hex')}`,
      onBatch: async ({ partition, through }) => {
        if (through > (last.get(partition) ?? -1n)) last.set(partition, through);
      },
    });
    const until = Date.now() + 20_000;
    while ([...Array(partitions).keys()].some((partition) => last.get(partition) !== BigInt(batches)) && Date.now() < until) await sleep(100);
    await subscription.stop();
    for (let partition = 0; partition < partitions; partition += 1) assert.is(last.get(partition), BigInt(batches), `partition ${partition} through`);
  } finally {
    await bus.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

test.run();
