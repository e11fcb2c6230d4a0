import type { DatabasePool } from 'slonik';
import type { EventBus, BusSubscription } from '../../shared/event-bus/port.js';
import type { EventStore } from '../../shared/event-store/port.js';
import type { ReadModelProjections } from './projection.js';
import { ProjectionFailed, PostgresProjector } from './projector.js';

export const POSTGRES_PROJECTOR_GROUP = 'stockroom-projector-postgres';

interface Log {
  error(obj: object, msg?: string): void;
}

/** Joins the projector's consumer group: replicas share the partitions. */
export async function startPostgresProjector(deps: {
  bus: EventBus;
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  log: Log;
  group?: string;
}): Promise<BusSubscription> {
  const projector = new PostgresProjector({
    pool: deps.pool,
    store: deps.store,
    projections: deps.projections,
    onStuck: (failure) =>
      deps.log.error(
      { err: failure, eventId: failure.event.id, position: failure.event.position.toString(), streamId: failure.event.streamId, type: failure.event.type },
      'PostgreSQL projector marked a stream stuck at an event it cannot apply; the rest goes on (npm run projections:stuck)',
      ),
  });
  await projector.registerPartitions(await deps.bus.partitions());
  return deps.bus.subscribe({
    group: deps.group ?? POSTGRES_PROJECTOR_GROUP,
    onBatch: (batch) => projector.applyBatch(batch),
    onError: (error) => {
      if (error instanceof ProjectionFailed) {
        // A poison event: the projector stays on it (the bus redelivers) and says so loudly.
        deps.log.error(
          { err: error, eventId: error.event.id, position: error.event.position.toString(), streamId: error.event.streamId, type: error.event.type },
          'PostgreSQL projector stopped at an event it cannot apply',
        );
      } else {
        deps.log.error({ err: error }, 'PostgreSQL projector batch failed; it will be applied again');
      }
    },
  });
}
