import { randomBytes } from 'node:crypto';
import { KafkaBus } from '../../src/shared/event-bus/kafka.js';

/** The real broker of the test run (scripts/test.mjs starts one when KAFKA_BROKERS is unset). */
export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('These tests need Kafka: set KAFKA_BROKERS, or have Java so that npm test starts a broker.');
  return brokers.split(',');
}

/** A bus on a topic of its own, so test files do not see each other's events. */
export function testBus(label: string, partitions = 3): KafkaBus {
  return new KafkaBus({ brokers: kafkaBrokers(), topic: `stockroom-test-${label}-${randomBytes(3).toString('hex')}`, partitions });
}
