import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '../../src/shared/event-bus/kafka.js';
import { describeError, progress } from './progress.js';

/** What a cell that needs a broker says when there is none. */
export const NO_BROKER = 'KAFKA_BROKERS is not set (start one with scripts/kafka/kafka.sh start)';

/** The bus of a section's cell, on a topic of its own; only its errors reach the progress lines. */
export const benchBus = (section: string, brokers: string[], topic: string, partitions: number, watermarkIntervalMs?: number): KafkaBus =>
  new KafkaBus({
    brokers,
    topic,
    partitions,
    watermarkIntervalMs,
    clientId: 'stockroom-bench',
    log: (level, message) => {
      if (level === 'error') progress(`${section}: ${message}`);
    },
  });

/** Messages on a topic now: the sum of its partitions' end offsets (the topic is the cell's own, from offset 0). */
export async function messagesOnTopic(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'stockroom-bench-count', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, { high }) => sum + Number(high), 0);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Removes a cell's topic and its consumer group, so that runs leave nothing on the broker. */
export async function deleteTopic(section: string, brokers: string[], topic: string, group: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'stockroom-bench-cleanup', logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteGroups([group]).catch(() => {});
    await admin.deleteTopics({ topics: [topic] });
  } catch (error) {
    progress(`${section}: could not delete Kafka topic ${topic}: ${describeError(error)}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
