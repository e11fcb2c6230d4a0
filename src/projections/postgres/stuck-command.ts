import type { DatabasePool } from 'slonik';
import type { EventStore } from '../../shared/event-store/port.js';
import type { ReadModelProjections } from './projection.js';
import { PostgresProjector } from './projector.js';
import { listStuckStreams } from '../../shared/read-model/stuck-streams.js';

export interface StuckCommandDeps {
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  out: (line: string) => void;
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
  if (command === 'list' && rest.length === 0) {
    const stuck = await listStuckStreams(deps.pool, { limit: 10_000 });
    if (stuck.length === 0) deps.out('no stream is stuck');
    for (const s of stuck) {
      deps.out(`${s.streamId}\tevent ${s.eventId}\tposition ${s.position}\t${s.type}\tsince ${s.since}\tattempts ${s.attempts}\t${s.reason}`);
    }
    return stuck.length === 0 ? 0 : 1;
  }
  if (command === 'retry' && rest.length > 0) {
    const all = rest.length === 1 && rest[0] === '--all';
    const streamIds = all ? (await listStuckStreams(deps.pool, { limit: 10_000 })).map((s) => s.streamId) : rest;
    const known = new Set((await listStuckStreams(deps.pool, { limit: 10_000 })).map((s) => s.streamId));
    const projector = new PostgresProjector({ pool: deps.pool, store: deps.store, projections: deps.projections });
    let left = 0;
    for (const streamId of streamIds) {
      if (!known.has(streamId)) {
        deps.out(`${streamId}: not stuck`);
        continue;
      }
      const failure = await projector.retryStuck(streamId);
      if (failure) {
        left += 1;
        deps.out(`${streamId}: still stuck at event ${failure.event.id} (position ${failure.event.position}): ${failure.message}`);
      } else {
        deps.out(`${streamId}: applied; no longer stuck`);
      }
    }
    return left === 0 ? 0 : 1;
  }
  deps.out(usage);
  return 2;
}
