import type { BusSubscription, EventBus } from '../../shared/event-bus/port.js';
import type { EventStore } from '../../shared/event-store/port.js';
import type { Redis } from '../../shared/redis.js';
import { ProjectionFailed } from '../postgres/projector.js';
import { RedisProjector, type RedisProjectorOptions } from './projector.js';
import { RebuildInProgress } from './rebuild.js';

export const REDIS_PROJECTOR_GROUP = 'stockroom-projector-redis';

interface Log {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Joins the Redis projector's consumer group: replicas share the partitions. Redis may be
 * away at start or later: batches then fail and the bus delivers them again, and the first
 * one applied after Redis returns rebuilds the model if Redis lost it.
 */
export async function startRedisProjector(deps: {
  bus: EventBus;
  redis: Redis;
  store: EventStore;
  log: Log;
  group?: string;
  options?: RedisProjectorOptions;
}): Promise<BusSubscription> {
  // Said once per event and process: each later event of that stream meets it again.
  const said = new Set<string>();
  const projector = new RedisProjector(deps.redis, deps.store, {
    ...deps.options,
    onStuck: (failure) => {
      if (said.has(failure.event.id)) return;
      said.add(failure.event.id);
      deps.log.error(
        { err: failure, eventId: failure.event.id, position: failure.event.position.toString(), streamId: failure.event.streamId, type: failure.event.type },
        'Redis projector left out a stream at an event it cannot apply; its point reads fall back to PostgreSQL, every other stream goes on',
      );
    },
  });
  const partitions = await deps.bus.partitions();
  // Not fatal when Redis is away: the partition count is remembered and seeded by the rebuild.
  await projector.registerPartitions(partitions).catch((error: unknown) => {
    deps.log.warn({ err: error }, 'Redis is not reachable; the Redis projector starts and waits for it');
  });
  let lastWarning = 0;
  return deps.bus.subscribe({
    group: deps.group ?? REDIS_PROJECTOR_GROUP,
    onBatch: (batch) => projector.applyBatch(batch),
    onError: (error) => {
      if (error instanceof ProjectionFailed) {
        deps.log.error(
          { err: error, eventId: error.event.id, position: error.event.position.toString(), streamId: error.event.streamId, type: error.event.type },
          'Redis projector stopped at an event it cannot apply',
        );
      } else if (error instanceof RebuildInProgress) {
        // Expected while another replica rebuilds: the batch waits for it.
      } else if (Date.now() - lastWarning > 10_000) {
        // Redis away repeats this for every redelivery: say it once in a while, not each time.
        lastWarning = Date.now();
        deps.log.warn({ err: error }, 'Redis projector batch failed (is Redis away?); it will be applied again');
      }
    },
  });
}
