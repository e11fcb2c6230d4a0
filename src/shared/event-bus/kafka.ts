import { CompressionTypes, type Consumer, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { RecordedEvent } from '../event-store/port.js';
import { eventHeaders, fromWire, toWire, WATERMARK_TYPE } from './message.js';
import { partitionOf } from './partition.js';
import type { BusSubscribeOptions, BusSubscription, EventBus } from './port.js';

export interface KafkaBusOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  /** Partitions to create the topic with, when it does not exist yet. */
  partitions?: number;
  /** WATERMARK_INTERVAL_MS unless set; 0 sends watermarks with every batch (the design before, kept for the bench's comparison). */
  watermarkIntervalMs?: number;
  log?: (level: 'error' | 'warn' | 'info', message: string, extra?: Record<string, unknown>) => void;
}

/**
 * kafkajs logs the ordinary steps of a group (a rebalance, a coordinator or leader that
 * moves, a topic still being created) at ERROR, and retries them itself: they are news,
 * not errors. Only what it gives up on, or what we do not recognise, stays an error.
 */
const routine = [
  /rebalanc/i,
  /not the correct coordinator|NOT_COORDINATOR|coordinator (is )?(loading|not available)|COORDINATOR_(LOAD_IN_PROGRESS|NOT_AVAILABLE)/i,
  /There is no leader for this topic-partition|LEADER_NOT_AVAILABLE|not the leader for (that|this) topic-partition|NOT_LEADER/i,
  /This server does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i,
  /The coordinator is not aware of this member|UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|generation id is not valid/i,
];

export function kafkaLogLevel(level: number, message: string, extra: Record<string, unknown> = {}): 'error' | 'warn' | 'info' {
  if (level > logLevel.ERROR) return level === logLevel.WARN ? 'warn' : 'info';
  const text = `${message} ${typeof extra.error === 'string' ? extra.error : ''} ${typeof extra.type === 'string' ? extra.type : ''}`;
  if (/retries exceeded|NumberOfRetriesExceeded|Crash/i.test(text)) return 'error';
  return routine.some((pattern) => pattern.test(text)) ? 'info' : 'error';
}

/** A consumer of this process, for /readyz: `stopped` says why it does no work, or is null. */
export interface BusHealth {
  group: string;
  stopped: string | null;
}

/**
 * Watermarks go to a partition at most once per this interval while batches keep coming;
 * the first batch after a quiet spell sends them at once, and a timer sends what is still
 * owed once the interval has passed, so an idle partition never holds the minimum back
 * for longer (docs/decisions.md, "Watermarks: when a partition has been idle, or on a timer").
 */
export const WATERMARK_INTERVAL_MS = 10;

/** A batch failing this long is a consumer stopped on an event, not a passing hiccup. */
export const BATCH_FAILING_NOT_READY_MS = 10_000;

const header = (headers: Record<string, unknown> | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
};

/**
 * Kafka adapter of the event bus. One topic, keyed by stream id so a stream's events stay
 * in one partition and in order; an idempotent producer (acks from all in-sync replicas,
 * no duplicates from its own retries); consumers commit offsets only after a batch is applied.
 */
export class KafkaBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private partitionCount = 0;
  private readonly consumers = new Set<Consumer>();
  /** Per group: kafkajs gave up on it (a crash without restart), or a batch failing since when. */
  private readonly groupState = new Map<string, { crashed: string | null; failing: { since: number; partition: number; error: string } | null }>();
  /** Per partition, the highest position it has been sent (an event or a watermark). */
  private told: bigint[] = [];
  /** The position every partition is owed a watermark up to: the last published `through`. */
  private owed = -1n;
  private lastWatermarksAt = 0;
  private watermarkTimer: NodeJS.Timeout | null = null;
  /** Sends one after another, so a watermark never overtakes the events it covers. */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: KafkaBusOptions) {
    const log = options.log;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'stockroom',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => ({ namespace, level, log: entry }) => {
        if (!log) return;
        const { message, ...extra } = entry;
        log(kafkaLogLevel(level, message, extra), `kafka ${namespace}: ${message}`, extra);
      },
      retry: { retries: 8 },
    });
  }

  private get watermarkInterval(): number {
    return this.options.watermarkIntervalMs ?? WATERMARK_INTERVAL_MS;
  }

  /** The topic this bus publishes to and reads from. */
  get topic(): string {
    return this.options.topic;
  }

  /** Creates the topic if it is missing and learns its partition count. */
  async ensureTopic(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(this.options.topic)) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{ topic: this.options.topic, numPartitions: this.options.partitions ?? 6 }],
        });
      }
      const metadata = await admin.fetchTopicMetadata({ topics: [this.options.topic] });
      this.partitionCount = metadata.topics[0]?.partitions.length ?? 0;
      return this.partitionCount;
    } finally {
      await admin.disconnect();
    }
  }

  /** The consumers of this process that are stopped, with the cause; running ones with `stopped: null`. */
  health(now = Date.now()): BusHealth[] {
    return [...this.groupState].map(([group, state]) => {
      if (state.crashed) return { group, stopped: `kafkajs stopped the consumer: ${state.crashed}` };
      if (state.failing && now - state.failing.since >= BATCH_FAILING_NOT_READY_MS) {
        const seconds = Math.round((now - state.failing.since) / 1000);
        return { group, stopped: `a batch of partition ${state.failing.partition} has failed for ${seconds} s: ${state.failing.error}` };
      }
      return { group, stopped: null };
    });
  }

  async partitions(): Promise<number> {
    return this.partitionCount || this.ensureTopic();
  }

  publish(events: readonly RecordedEvent[], through: bigint): Promise<void> {
    return this.serially(async () => {
      const producer = await this.connectProducer();
      if (through > this.owed) this.owed = through;
      for (const event of events) {
        const partition = partitionOf(event.streamId, this.partitionCount);
        if (event.position > (this.told[partition] ?? -1n)) this.told[partition] = event.position;
      }
      // A partition's own events tell its consumers as much as a watermark would; the
      // others learn `through` now if the last watermarks are an interval old, else later.
      const watermarks = Date.now() - this.lastWatermarksAt >= this.watermarkInterval ? this.watermarksOwed() : [];
      try {
        await producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: [
            {
              topic: this.options.topic,
              messages: [...events.map((event) => ({ key: event.streamId, value: toWire(event), headers: eventHeaders(event) })), ...watermarks],
            },
          ],
        });
      } catch (error) {
        // What reached the broker is unknown: every partition is owed again.
        this.told = [];
        throw error;
      }
      this.scheduleWatermarks();
    });
  }

  /** Watermark messages for the partitions told less than `owed`, marked as told. */
  private watermarksOwed() {
    const watermark = this.owed.toString();
    const messages = [];
    for (let partition = 0; partition < this.partitionCount; partition += 1) {
      if ((this.told[partition] ?? -1n) >= this.owed) continue;
      this.told[partition] = this.owed;
      messages.push({ partition, key: null, value: JSON.stringify({ through: watermark }), headers: { 'event-type': WATERMARK_TYPE, position: watermark } });
    }
    if (messages.length > 0) this.lastWatermarksAt = Date.now();
    return messages;
  }

  private scheduleWatermarks(): void {
    const allTold = this.told.length === this.partitionCount && this.told.every((told) => told >= this.owed);
    if (this.watermarkTimer || this.owed < 0n || allTold) return;
    const wait = Math.max(0, this.watermarkInterval - (Date.now() - this.lastWatermarksAt));
    this.watermarkTimer = setTimeout(() => {
      this.watermarkTimer = null;
      void this.serially(async () => {
        const messages = this.watermarksOwed();
        if (messages.length === 0 || !this.producer) return;
        await this.producer.send({ topic: this.options.topic, acks: -1, compression: CompressionTypes.None, messages });
      }).catch(() => {
        // Not told after all: the next publish or timer tries again.
        this.told = [];
        this.scheduleWatermarks();
      });
    }, wait);
    this.watermarkTimer.unref();
  }

  private serially(send: () => Promise<void>): Promise<void> {
    const run = this.sending.then(send);
    this.sending = run.catch(() => {});
    return run;
  }

  async subscribe(options: BusSubscribeOptions): Promise<BusSubscription> {
    const consumer = this.kafka.consumer({
      groupId: options.group,
      // Short waits keep a read of one's own write quick and a rebalance short.
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    const live = options.from === 'now';
    const state: { crashed: string | null; failing: { since: number; partition: number; error: string } | null } = { crashed: null, failing: null };
    this.groupState.set(options.group, state);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) state.crashed = payload.error.message;
    });
    // Offsets taken before joining: whatever is published after them reaches this consumer,
    // however long the join takes. A `now` group then commits like any other, so that a
    // consumer restart or a rejoin resumes where it was instead of jumping to the end; a
    // clean stop deletes the group, and a killed process's offsets expire with the broker's
    // offsets retention.
    const startAt = live ? await this.endOffsets() : null;
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: !live });
    await consumer.run({
      // Partitions are applied side by side (a batch of one partition never waits for
      // another's); the projectors are safe under that, as they are under two replicas.
      partitionsConsumedConcurrently: 6,
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const events: RecordedEvent[] = [];
        let through = -1n;
        for (const message of batch.messages) {
          const type = header(message.headers as Record<string, unknown>, 'event-type');
          const position = BigInt(header(message.headers as Record<string, unknown>, 'position') ?? '-1');
          if (type !== WATERMARK_TYPE) events.push(fromWire(message.value?.toString('utf8') ?? ''));
          if (position > through) through = position;
        }
        try {
          await options.onBatch({ events, partition: batch.partition, through });
        } catch (error) {
          options.onError?.(error);
          const message = error instanceof Error ? error.message : String(error);
          state.failing = { since: state.failing?.since ?? Date.now(), partition: batch.partition, error: message };
          // Not resolved, not committed: kafkajs restarts the consumer from the last commit.
          throw error;
        }
        state.failing = null;
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }],
        });
        await heartbeat();
      },
    });
    // Applied by kafkajs before the first fetch of each partition once it is assigned.
    for (const { partition, offset } of startAt ?? []) consumer.seek({ topic: this.options.topic, partition, offset });
    this.consumers.add(consumer);
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        this.groupState.delete(options.group);
        await consumer.disconnect();
        if (live) await this.deleteGroup(options.group);
      },
    };
  }

  /** The offset the next message of each partition will get. */
  private async endOffsets(): Promise<{ partition: number; offset: string }[]> {
    if (this.partitionCount === 0) await this.ensureTopic();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(this.options.topic)).map(({ partition, offset }) => ({ partition, offset }));
    } finally {
      await admin.disconnect();
    }
  }

  /** A live group is one process's: gone with it (best effort: an empty group also expires by itself). */
  private async deleteGroup(group: string): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([group]);
    } catch {
      // The broker removes an empty group without offsets on its own.
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.watermarkTimer) clearTimeout(this.watermarkTimer);
    this.watermarkTimer = null;
    await this.sending;
    await Promise.all([...this.consumers].map((consumer) => consumer.disconnect()));
    this.consumers.clear();
    await this.producer?.disconnect();
    this.producer = null;
  }

  private async connectProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (this.partitionCount === 0) await this.ensureTopic();
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, as the Java client partitions: any client finds a stream's partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }
}
