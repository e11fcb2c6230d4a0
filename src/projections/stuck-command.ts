import type { DatabasePool } from 'slonik';
import type { EventStore } from '../shared/event-store/port.js';
import type { ReadModelProjections } from './postgres/projection.js';
import { PostgresProjector } from './postgres/projector.js';
import { listStuckStreams, MAILER_STUCK, type StuckStream } from '../shared/read-model/stuck-streams.js';
import { CrossingRecorder } from './mailer/record.js';
import type { ProjectionFailed } from './postgres/projector.js';

export interface StuckCommandDeps {
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  out: (line: string) => void;
}

/** Each consumer that keeps a record of the streams it stopped on, and how it retries one. */
interface StuckKeeper {
  name: string;
  list(): Promise<StuckStream[]>;
  retry(streamId: string): Promise<ProjectionFailed | null>;
}

function keepers(deps: StuckCommandDeps): StuckKeeper[] {
  const projector = new PostgresProjector({ pool: deps.pool, store: deps.store, projections: deps.projections });
  const recorder = new CrossingRecorder(deps.pool, deps.store);
  return [
    { name: 'read model', list: () => listStuckStreams(deps.pool, { limit: 10_000 }), retry: (id) => projector.retryStuck(id) },
    { name: 'mailer', list: () => listStuckStreams(deps.pool, { schema: MAILER_STUCK, limit: 10_000 }), retry: (id) => recorder.retryStuck(id) },
  ];
}

const usage = 'usage: projections:stuck [list] | retry <streamId>... | retry --all';

/**
 * `npm run projections:stuck`: lists the streams the PostgreSQL projector stopped on, and
 * after a fix (an upcaster, a code change, a corrected event) applies them again. Answers
 * the exit code: 0 when nothing is (left) stuck among those asked for, 1 otherwise, 2 on
 * a wrong command line.
 */
export async function runStuckCommand(args: readonly string[], deps: StuckCommandDeps): Promise<number> {
  const [command = 'list', ...rest] = args;
  const all = keepers(deps);
  if (command === 'list' && rest.length === 0) {
    let count = 0;
    for (const keeper of all) {
      for (const s of await keeper.list()) {
        count += 1;
        deps.out(`${keeper.name}\t${s.streamId}\tevent ${s.eventId}\tposition ${s.position}\t${s.type}\tsince ${s.since}\tattempts ${s.attempts}\t${s.reason}`);
      }
    }
    if (count === 0) deps.out('no stream is stuck');
    return count === 0 ? 0 : 1;
  }
  if (command === 'retry' && rest.length > 0) {
    const everything = rest.length === 1 && rest[0] === '--all';
    let left = 0;
    const asked = new Set(rest);
    const found = new Set<string>();
    for (const keeper of all) {
      for (const { streamId } of await keeper.list()) {
        if (!everything && !asked.has(streamId)) continue;
        found.add(streamId);
        const failure = await keeper.retry(streamId);
        if (failure) {
          left += 1;
          deps.out(`${keeper.name}: ${streamId}: still stuck at event ${failure.event.id} (position ${failure.event.position}): ${failure.message}`);
        } else {
          deps.out(`${keeper.name}: ${streamId}: applied; no longer stuck`);
        }
      }
    }
    if (!everything) for (const streamId of asked) if (!found.has(streamId)) deps.out(`${streamId}: not stuck`);
    return left === 0 ? 0 : 1;
  }
  deps.out(usage);
  return 2;
}
