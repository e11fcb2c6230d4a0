import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KafkaBus } from '../../src/shared/event-bus/kafka.js';
import { kafkaBrokers } from '../support/kafka.js';

/** A rebalance is a normal step of a consumer group: kafkajs's ERROR lines about it reach our log as info. */
test('a second consumer joining the group: the rebalance is logged, and not as an error', async () => {
  const topic = `stockroom-test-kafka-log-${randomBytes(3).toString('hex')}`;
  const group = `stockroom-test-kafka-log-${randomBytes(3).toString('hex')}`;
  const lines: { level: string; message: string }[] = [];
  const bus = (name: string) =>
    new KafkaBus({ brokers: kafkaBrokers(), topic, partitions: 2, clientId: name, log: (level, message) => void lines.push({ level, message }) });
  const first = bus('first');
  const second = bus('second');
  try {
    await first.ensureTopic();
    const onBatch = async () => {};
    await first.subscribe({ group, onBatch });
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await second.subscribe({ group, onBatch });
    const deadline = Date.now() + 20_000;
    while (!lines.some((line) => /rebalanc/i.test(line.message)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(lines.some((line) => /rebalanc/i.test(line.message)), `the rebalance is in the log: ${JSON.stringify(lines)}`);
    const errors = lines.filter((line) => line.level === 'error');
    assert.equal(errors, [], 'no error lines for a normal rebalance');
  } finally {
    await second.close();
    await first.close();
  }
});

test.run();
