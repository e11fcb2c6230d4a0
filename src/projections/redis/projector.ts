import type { BusBatch } from '../../shared/event-bus/port.js';
import { type EventStore, type RecordedEvent, streamCategory } from '../../shared/event-store/port.js';
import { itemHash, itemOfStream, keys, lowestProgress, progressHash, type RedisItemRow, STOCK_ITEM_CATEGORY } from '../../shared/hot-model/keys.js';
import { execAll, type Redis, serverRunId } from '../../shared/redis.js';
import { foldItem } from './evolve.js';
import { RedisRebuild } from './rebuild.js';
import { applyItems, forgetItems, position } from './scripts.js';
import { ProjectionFailed } from '../postgres/projector.js';

export interface RedisProjectorOptions {
  /** Events per read of the event store during a rebuild. */
  rebuildPageSize?: number;
  /** Items per script call during a rebuild (each call blocks Redis for its duration). */
  rebuildChunkSize?: number;
  /** How long a rebuild keeps its lock without renewing it (a crashed rebuilder frees it then). */
  rebuildLeaseMs?: number;
  /** Told of each stream left out at an event this release cannot read, to say it loudly. */
  onStuck?: (failure: ProjectionFailed) => void;
}

/**
 * Applies batches of stock-item events to the Redis read model, with the PostgreSQL
 * projector's rules: one read of the rows a batch touches, the events folded per stream, a
 * repeat (revision at or below the row's) changes nothing, a gap (a revision beyond the next)
 * is filled from the event store, and the rows are written in one script with the partition's
 * progress. The script writes a row only over an older revision, so two replicas sharing
 * partitions never move a row back.
 *
 * Redis keeps nothing across a restart (and a persisted Redis may come back with an old
 * snapshot): the model records the run_id of the server it is complete on, and a batch never
 * lands in a model that is not. It first rebuilds from the event store (under a lease, one
 * replica at a time), so that items nobody touches again are not missing.
 */
export class RedisProjector {
  private partitions = 0;
  private readonly rebuilding: RedisRebuild;
  private readonly onStuck: (failure: ProjectionFailed) => void;

  constructor(
    private readonly redis: Redis,
    private readonly store: EventStore,
    options: RedisProjectorOptions = {},
  ) {
    this.onStuck = options.onStuck ?? (() => {});
    this.rebuilding = new RedisRebuild(
      redis,
      store,
      { pageSize: options.rebuildPageSize ?? 1_000, chunkSize: options.rebuildChunkSize ?? 200, leaseMs: options.rebuildLeaseMs ?? 30_000 },
      () => this.partitions,
      this.onStuck,
    );
  }

  /** Throws while Redis is away: the bus delivers the same batch again later. */
  async applyBatch(batch: BusBatch): Promise<void> {
    const streams = new Map<string, RecordedEvent[]>();
    for (const event of batch.events) {
      if (streamCategory(event.streamId) !== STOCK_ITEM_CATEGORY) continue;
      const list = streams.get(event.streamId);
      if (list) list.push(event);
      else streams.set(event.streamId, [event]);
    }
    const streamIds = [...streams.keys()];
    for (let attempt = 1; ; attempt += 1) {
      const runId = await serverRunId(this.redis);
      // A batch of only a watermark needs no read: the script checks completeness itself.
      const loaded = streamIds.length === 0 ? new Map<string, RedisItemRow>() : await this.load(runId, streamIds);
      if (loaded) {
        const changed: RedisItemRow[] = [];
        const failures: ProjectionFailed[] = [];
        for (const streamId of streamIds) {
          const start = loaded.get(streamId) ?? null;
          try {
            const row = await this.fold(start, streamId, streams.get(streamId) ?? []);
            if (row && row !== start) changed.push(row);
          } catch (error) {
            // One stream this release cannot read is left out of the model, not the partition:
            // its next event folds it again from the store (after a fix, it is back).
            if (!(error instanceof ProjectionFailed)) throw error;
            failures.push(error);
          }
        }
        await forgetItems(this.redis, failures.map((failure) => failure.event.streamId));
        const written = await applyItems(this.redis, ['batch', runId, String(batch.partition), position(batch.through)], changed);
        if (written !== -1) {
          for (const failure of failures) this.onStuck(failure);
          return;
        }
      }
      // Not complete on this server (new, restarted, flushed): rebuild, then apply.
      if (attempt >= 3) throw new Error('The Redis read model is still incomplete after a rebuild');
      await this.rebuild();
    }
  }

  /** Seeds a progress field per partition, so that the watermark waits for all of them. */
  async registerPartitions(count: number): Promise<void> {
    this.partitions = Math.max(this.partitions, count);
    if (count === 0) return;
    const multi = this.redis.multi();
    for (let partition = 0; partition < count; partition += 1) multi.hsetnx(keys.progress, String(partition), '0');
    await execAll(multi);
  }

  /** min over the partitions' progress; null when none is registered or the model is not complete. */
  async watermark(): Promise<bigint | null> {
    const runId = await serverRunId(this.redis);
    const [complete, progress] = await execAll(this.redis.multi().hget(keys.meta, 'runId').hgetall(keys.progress));
    if (complete !== runId) return null;
    return lowestProgress(progressHash.parse(progress));
  }

  /**
   * Fills the model from the event store and marks it complete on this server (rebuild.ts:
   * one replica at a time, under a lease; concurrent callers in this process share one run).
   */
  rebuild(): Promise<void> {
    return this.rebuilding.run();
  }

  /** The stored rows of these streams, or null when the model is not complete on this server. */
  private async load(runId: string, streamIds: readonly string[]): Promise<Map<string, RedisItemRow> | null> {
    const multi = this.redis.multi().hget(keys.meta, 'runId');
    for (const streamId of streamIds) {
      const { storeId, skuId } = itemOfStream(streamId);
      multi.hgetall(keys.item(storeId, skuId));
    }
    const [complete, ...hashes] = await execAll(multi);
    if (complete !== runId) return null;
    const rows = new Map<string, RedisItemRow>();
    streamIds.forEach((streamId, index) => {
      const stored = itemHash.parse(hashes[index]);
      if (stored) rows.set(streamId, { ...itemOfStream(streamId), ...stored });
    });
    return rows;
  }

  /** The row after the delivered events; a gap is filled from the event store, never skipped. */
  private async fold(start: RedisItemRow | null, streamId: string, delivered: readonly RecordedEvent[]): Promise<RedisItemRow | null> {
    const after = start?.revision ?? -1;
    const byRevision = new Map<number, RecordedEvent>();
    for (const event of delivered) if (event.revision > after) byRevision.set(event.revision, event);
    let events = [...byRevision.values()].sort((a, b) => a.revision - b.revision);
    const last = events.at(-1);
    if (!last) return start;
    const contiguous = (list: readonly RecordedEvent[]) => list.every((event, index) => event.revision === after + 1 + index);
    if (!contiguous(events)) {
      events = await this.store.readStream(streamId, { fromRevision: after + 1, maxCount: last.revision - after });
      if (!contiguous(events) || events.at(-1)?.revision !== last.revision) {
        throw new Error(`${streamId}: the event store did not return revisions ${after + 1} to ${last.revision}`);
      }
    }
    return foldItem(start, events);
  }
}
