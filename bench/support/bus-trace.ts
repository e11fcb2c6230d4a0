import { performance } from 'node:perf_hooks';
import type { RecordedEvent } from '../../src/shared/event-store/port.js';
import type { BusSubscribeOptions, BusSubscription, EventBus } from '../../src/shared/event-bus/port.js';

interface BatchMark {
  partition: number;
  through: bigint;
  events: number;
  /** When the consumer handed the batch to the projector, and when the projector resolved. */
  arrivedAt: number;
  appliedAt: number;
}

/** The hops of one position, in ms on `performance.now()`'s clock; null where not reached. */
export interface Hops {
  publishStarted: number | null;
  published: number | null;
  firstArrived: number | null;
  lastArrived: number | null;
  lastApplied: number | null;
}

/**
 * A bench-only event bus that times each hop of a position on its way: when the forwarder
 * hands it to `publish`, when the bus acknowledges it, and per partition when the first
 * batch covering it reaches the consumer and is applied. Delegates everything else.
 */
export class TracingBus implements EventBus {
  private readonly publishStarted = new Map<bigint, number>();
  private readonly published = new Map<bigint, number>();
  private readonly batches: BatchMark[] = [];
  private partitionCount = 0;

  constructor(private readonly inner: EventBus) {}

  async publish(events: readonly RecordedEvent[], through: bigint): Promise<void> {
    const started = performance.now();
    for (const event of events) this.publishStarted.set(event.position, started);
    await this.inner.publish(events, through);
    const done = performance.now();
    for (const event of events) this.published.set(event.position, done);
  }

  async subscribe(options: BusSubscribeOptions): Promise<BusSubscription> {
    return this.inner.subscribe({
      ...options,
      onBatch: async (batch) => {
        const arrivedAt = performance.now();
        await options.onBatch(batch);
        this.batches.push({ partition: batch.partition, through: batch.through, events: batch.events.length, arrivedAt, appliedAt: performance.now() });
      },
    });
  }

  async partitions(): Promise<number> {
    this.partitionCount = await this.inner.partitions();
    return this.partitionCount;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Where `position` was, hop by hop: the first batch per partition whose `through` covers it. */
  hops(position: bigint): Hops {
    const first = new Map<number, BatchMark>();
    for (const mark of this.batches) {
      if (mark.through >= position && !first.has(mark.partition)) first.set(mark.partition, mark);
    }
    const marks = [...first.values()];
    const all = this.partitionCount > 0 && marks.length >= this.partitionCount;
    return {
      publishStarted: this.publishStarted.get(position) ?? null,
      published: this.published.get(position) ?? null,
      firstArrived: marks.length > 0 ? Math.min(...marks.map((mark) => mark.arrivedAt)) : null,
      lastArrived: all ? Math.max(...marks.map((mark) => mark.arrivedAt)) : null,
      lastApplied: all ? Math.max(...marks.map((mark) => mark.appliedAt)) : null,
    };
  }

  /** How long batches took to apply, split by whether they carried events. */
  applyTimes(): { withEvents: number[]; watermarkOnly: number[] } {
    const withEvents: number[] = [];
    const watermarkOnly: number[] = [];
    for (const mark of this.batches) (mark.events > 0 ? withEvents : watermarkOnly).push(mark.appliedAt - mark.arrivedAt);
    return { withEvents, watermarkOnly };
  }

  /** Forgets what was timed (between phases). */
  clear(): void {
    this.publishStarted.clear();
    this.published.clear();
    this.batches.length = 0;
  }
}
