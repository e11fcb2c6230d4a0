import type { DatabasePool } from 'slonik';
import type { EventStore } from '../../shared/event-store/port.js';
import type { ReadModelProjections } from './projection.js';
import { ensureReadModelSchema, schemaFingerprint, storedFingerprint } from './read-model-schema.js';
import { logRebuildProgress, rebuildReadModel, withRebuildLock } from './rebuild.js';

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export type ReadModelState = 'created' | 'current' | 'rebuilt' | 'outdated';

/**
 * Makes the read model match this release's schema.sql before anything reads or projects.
 *
 * Missing: created empty. Of another fingerprint (an older release, or one from before
 * fingerprints): a process that projects rebuilds it from the event store and swaps it in
 * (the same rebuild as `npm run projections:rebuild`, so queries keep answering from the
 * old one meanwhile); replicas starting together wait for one another on the rebuild lock,
 * and the later ones find it current. A process that only reads leaves it alone and answers
 * from it until a projector has rebuilt it ('outdated').
 */
export async function ensureCurrentReadModel(deps: {
  databaseUrl: string;
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  log: Log;
  /** Whether this process projects (and so may rebuild). */
  projects: boolean;
}): Promise<ReadModelState> {
  if (await ensureReadModelSchema(deps.databaseUrl)) return 'created';
  const wanted = await schemaFingerprint();
  const isCurrent = async () => (await storedFingerprint(deps.pool)) === wanted;
  if (await isCurrent()) return 'current';
  if (!deps.projects) {
    deps.log.warn({}, 'the read model was made by another release; answering from it until a projector process rebuilds it');
    return 'outdated';
  }
  return withRebuildLock(deps.pool, async () => {
    if (await isCurrent()) return 'current';
    deps.log.info({ fingerprint: wanted }, 'the read model was made by another release: rebuilding it before projecting');
    const { events } = await rebuildReadModel({
      databaseUrl: deps.databaseUrl,
      pool: deps.pool,
      store: deps.store,
      projections: deps.projections,
      progress: logRebuildProgress(deps.log),
    });
    deps.log.info({ events }, 'read model rebuilt and swapped in');
    return 'rebuilt';
  });
}
