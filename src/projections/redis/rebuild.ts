import { randomUUID } from 'node:crypto';
import { catchUp } from '../../shared/event-store/catch-up.js';
import { type EventStore, streamCategory } from '../../shared/event-store/port.js';
import { keys, type RedisItemRow, STOCK_ITEM_CATEGORY } from '../../shared/hot-model/keys.js';
import { type Redis, serverRunId } from '../../shared/redis.js';
import { foldItem } from './evolve.js';
import { applyItems, FINISH, forgetItems, REBUILD_LOCK, RELEASE, RENEW, scriptResult } from './scripts.js';
import { ProjectionFailed } from '../postgres/projector.js';

/** Another replica is rebuilding the model; the batch is retried later. */
export class RebuildInProgress extends Error {
  constructor() {
    super('The Redis read model is being rebuilt by another projector; the batch will be applied after it.');
    this.name = 'RebuildInProgress';
  }
}

/** The rebuild lost its lease (Redis restarted, or it stalled past the lease); it starts over later. */
export class RebuildInterrupted extends Error {
  constructor() {
    super('The rebuild of the Redis read model lost its lease; it will start over.');
    this.name = 'RebuildInterrupted';
  }
}

export interface RedisRebuildOptions {
  /** Events per read of the event store. */
  pageSize: number;
  /** Items per script call (each call blocks Redis for its duration). */
  chunkSize: number;
  /** How long the lease holds without being renewed (a crashed rebuilder frees it then). */
  leaseMs: number;
}

/**
 * Fills the Redis read model from the whole event store, then marks it complete on this
 * server with every partition's progress at the position it read through. Under a lease in
 * Redis, renewed as it reads, so one replica rebuilds at a time and a crashed one frees it;
 * concurrent callers in this process share one run.
 */
export class RedisRebuild {
  private running: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly store: EventStore,
    private readonly options: RedisRebuildOptions,
    /** The partitions known when it finishes, each set at least to what it read through. */
    private readonly partitions: () => number,
    /** Told of each stream left out at an event this release cannot read. */
    private readonly onStuck: (failure: ProjectionFailed) => void = () => {},
  ) {}

  run(): Promise<void> {
    this.running ??= this.once().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async once(): Promise<void> {
    const runId = await serverRunId(this.redis);
    const token = randomUUID();
    if ((await this.redis.set(REBUILD_LOCK, token, 'PX', this.options.leaseMs, 'NX')) !== 'OK') throw new RebuildInProgress();
    try {
      // Another replica may have completed it between our look and our lock.
      if ((await this.redis.hget(keys.meta, 'runId')) === runId) return;
      await this.under(token, runId);
    } finally {
      // Done, or failed: either way the next one need not wait for the lease to run out.
      await RELEASE.run(this.redis, [REBUILD_LOCK], [token]).catch(() => {});
    }
  }

  private async under(token: string, runId: string): Promise<void> {
    const { pageSize, chunkSize, leaseMs } = this.options;
    const rows = new Map<string, RedisItemRow | null>();
    const failures = new Map<string, ProjectionFailed>();
    const through = await catchUp(this.store, {
      after: 0n,
      batchSize: pageSize,
      onEvents: async (events) => {
        for (const event of events) {
          if (streamCategory(event.streamId) !== STOCK_ITEM_CATEGORY || failures.has(event.streamId)) continue;
          try {
            rows.set(event.streamId, foldItem(rows.get(event.streamId) ?? null, [event]));
          } catch (error) {
            // Left out, as a live batch leaves it out: the rest of the model is rebuilt.
            if (!(error instanceof ProjectionFailed)) throw error;
            failures.set(event.streamId, error);
            rows.delete(event.streamId);
          }
        }
        await this.renew(token);
      },
    });
    await forgetItems(this.redis, [...failures.keys()]);
    for (const failure of failures.values()) this.onStuck(failure);
    const present = [...rows.values()].filter((row): row is RedisItemRow => row !== null);
    for (let start = 0; start < present.length; start += chunkSize) {
      const written = await applyItems(this.redis, ['rebuild', token, String(leaseMs), ''], present.slice(start, start + chunkSize));
      if (written === -2) throw new RebuildInterrupted();
    }
    const partitions = Array.from({ length: this.partitions() }, (_, partition) => String(partition));
    const finished = scriptResult.parse(
      await FINISH.run(this.redis, [keys.meta, keys.progress, REBUILD_LOCK], [token, runId, through.toString(), ...partitions]),
    );
    if (finished === -2) throw new RebuildInterrupted();
  }

  private async renew(token: string): Promise<void> {
    if (scriptResult.parse(await RENEW.run(this.redis, [REBUILD_LOCK], [token, this.options.leaseMs])) !== 1) throw new RebuildInterrupted();
  }
}
