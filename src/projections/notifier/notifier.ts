import { hostname } from 'node:os';
import { LRUCache } from 'lru-cache';
import type { BusBatch, BusSubscription, EventBus } from '../../shared/event-bus/port.js';
import { catchUp } from '../../shared/event-store/catch-up.js';
import type { EventStore, RecordedEvent } from '../../shared/event-store/port.js';
import { STOCK_ITEM_CATEGORY } from '../../shared/hot-model/keys.js';
import { newId } from '../../shared/ids.js';
import type { LiveListener, StockChange, StockChangeFeed } from '../../shared/live/stock-changes.js';
import { ProjectionFailed } from '../postgres/projector.js';
import type { StockLevel } from '../stock-level.js';
import { StockLevels } from './levels.js';

interface Log {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NotifierOptions {
  bus: EventBus;
  store: EventStore;
  log: Log;
  /** Levels of this many items are kept between events (about 200 bytes each). */
  maxItems?: number;
  /** The consumer group; one of this process's own by default. */
  group?: string;
}

const stockItemPrefix = `${STOCK_ITEM_CATEGORY}-`;
const byPosition = (a: StockChange, b: StockChange) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0);

/** A group of this process alone: every notifier sees every change. */
export const notifierGroup = () => `stockroom-notifier-${hostname()}-${process.pid}-${newId().slice(-12)}`;

/**
 * The notifier: one per process that serves websockets. It reads the bus in a consumer
 * group of its own from the moment it starts, turns stock item events into changes, and
 * hands them to its listeners in global position order.
 *
 * Kafka keeps order per partition only, so a change is held until every partition has
 * passed its position (the watermarks the forwarder sends). Released in position order,
 * the position of the last change a client received is a safe place to resume from:
 * nothing before it in its stores is still to come.
 */
export class Notifier implements StockChangeFeed {
  private readonly listeners = new Set<LiveListener>();
  private readonly through = new Map<number, bigint>();
  private pending: StockChange[] = [];
  private released = -1n;
  private partitionCount = 1;
  private subscription: BusSubscription | null = null;
  private readonly levels: StockLevels;
  private started = false;

  constructor(private readonly options: NotifierOptions) {
    this.levels = new StockLevels(options.store, new LRUCache<string, StockLevel>({ max: options.maxItems ?? 100_000 }));
  }

  get live(): boolean {
    return this.started;
  }

  /** Where the live feed stands: everything up to here has been released. */
  get position(): bigint {
    return this.released;
  }

  async start(): Promise<void> {
    this.partitionCount = await this.options.bus.partitions();
    this.subscription = await this.options.bus.subscribe({
      group: this.options.group ?? notifierGroup(),
      from: 'now',
      onBatch: (batch) => this.onBatch(batch),
      onError: (error) => this.options.log.error({ err: error }, 'notifier: a batch failed; the bus delivers it again'),
    });
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.subscription?.stop();
    this.subscription = null;
    this.listeners.clear();
  }

  listen(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  head(): Promise<bigint> {
    return this.options.store.headPosition();
  }

  async replay(options: { after: bigint; storeIds: ReadonlySet<string>; onChanges(changes: StockChange[]): Promise<void>; signal?: AbortSignal }): Promise<bigint> {
    // Levels of this replay alone: it starts in the past, where the live cache cannot help.
    const levels = new StockLevels(this.options.store, new Map());
    return catchUp(this.options.store, {
      after: options.after,
      batchSize: 1_000,
      onEvents: async (events) => {
        options.signal?.throwIfAborted();
        const changes: StockChange[] = [];
        for (const recorded of events) {
          if (!recorded.streamId.startsWith(stockItemPrefix)) continue;
          const storeId = recorded.streamId.slice(stockItemPrefix.length, recorded.streamId.indexOf('_'));
          if (!options.storeIds.has(storeId)) continue;
          const change = await this.changeOf(levels, recorded);
          if (change) changes.push(change);
        }
        if (changes.length > 0) await options.onChanges(changes);
      },
    });
  }

  private async onBatch(batch: BusBatch): Promise<void> {
    const changes: StockChange[] = [];
    for (const recorded of batch.events) {
      // Released already: every partition had passed it, so this is a delivery again.
      if (recorded.position <= this.released || !recorded.streamId.startsWith(stockItemPrefix)) continue;
      const change = await this.changeOf(this.levels, recorded);
      if (change) changes.push(change);
    }
    this.pending.push(...changes);
    const before = this.through.get(batch.partition) ?? -1n;
    if (batch.through > before) this.through.set(batch.partition, batch.through);
    this.release();
  }

  /**
   * The change one event made; null for an event this release cannot read, and for the later
   * events of its stream (their level is read back through it). As the projector confines
   * such an event to its stream, so does the feed: failing the batch instead would hold every
   * partition's changes back for ever (nothing is released without every watermark), and a
   * replay would retry for ever; every client would see nothing, not just that item's frames.
   */
  private async changeOf(levels: StockLevels, recorded: RecordedEvent): Promise<StockChange | null> {
    try {
      return await levels.changeOf(recorded);
    } catch (error) {
      if (!(error instanceof ProjectionFailed)) throw error;
      const { event } = error;
      this.options.log.error(
        { err: error, eventId: event.id, streamId: event.streamId, position: event.position.toString() },
        'notifier: an event this release cannot read; its stream sends no frames until a release reads it',
      );
      return null;
    }
  }

  private release(): void {
    if (this.through.size < this.partitionCount) return;
    let upTo = -1n;
    for (const through of this.through.values()) if (upTo === -1n || through < upTo) upTo = through;
    if (upTo <= this.released) return;
    this.pending.sort(byPosition);
    const ready: StockChange[] = [];
    const rest: StockChange[] = [];
    for (const change of this.pending) {
      if (change.position > upTo) rest.push(change);
      else if (ready.at(-1)?.position !== change.position) ready.push(change);
    }
    this.pending = rest;
    this.released = upTo;
    if (ready.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(ready);
      } catch (error) {
        this.options.log.error({ err: error }, 'notifier: a listener failed');
      }
    }
  }
}
