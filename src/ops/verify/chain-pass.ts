import { chainHash, chainSeed } from '../../shared/event-store/chain.js';
import { type EventStore, streamCategory } from '../../shared/event-store/port.js';
import { parseEvent } from '../../shared/events/index.js';
import { evolveStockLevel, type StockLevel } from '../../projections/stock-level.js';
import type { Difference } from './difference.js';

/** What one pass over the event store learns of each stream. */
export interface StreamFold {
  revision: number;
  /** Position of the stream's last event. */
  position: bigint;
  /** The chain hash of its last event. */
  hash: string;
  /** The chain hash as of the `--against` position, when the stream had events by then. */
  hashAtAgainst: string | null;
  /** A hashed event was seen: an event without one after it was not written by Stockroom. */
  chained: boolean;
  /** Events written before the chain: the revision and chain hash of the last of them. */
  legacy: { revision: number; hash: string } | null;
  /** Stock items only: the level after the last event. */
  level: StockLevel | null;
}

export interface ChainStart {
  revision: number;
  hash: string;
}

export interface PassResult {
  streams: Map<string, StreamFold>;
  events: number;
}

/**
 * Reads every event up to `head` once, in position order, and for each stream checks the
 * order of revisions and the hash chain (each event's hash recomputed from its content and
 * the hash before it; events from before the chain are hashed as they would have been, and
 * checked against the starting hash recorded for them), and folds stock items to their
 * level for the comparison with the read models. Only a stream's fold stays in memory.
 */
export async function chainPass(input: {
  store: Pick<EventStore, 'readAll'>;
  head: bigint;
  starts: ReadonlyMap<string, ChainStart>;
  against: bigint | null;
  differences: Difference[];
  progress(events: number, position: bigint): void;
  pageSize?: number;
}): Promise<PassResult> {
  const { store, head, starts, against, differences } = input;
  const streams = new Map<string, StreamFold>();
  let after = 0n;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: input.pageSize ?? 2000 });
    const within = page.filter((event) => event.position <= head);
    for (const event of within) {
      const stream = event.streamId;
      const fold = streams.get(stream) ?? { revision: -1, position: 0n, hash: chainSeed(stream), hashAtAgainst: null, chained: false, legacy: null, level: null };
      const at = { stream, revision: event.revision, position: event.position.toString(), eventId: event.id };
      if (event.revision !== fold.revision + 1) {
        differences.push({ ...at, model: 'event store', field: 'revision', expected: fold.revision + 1, found: event.revision, detail: 'events out of order or missing' });
      }
      const stored = event.metadata.hash;
      if (stored !== undefined) {
        const computed = chainHash(fold.hash, event);
        if (computed !== stored) {
          differences.push({ ...at, model: 'event store', field: 'hash', expected: computed, found: stored, detail: 'content or order altered after it was written' });
        }
        // Go on from the stored hash, so one altered event is reported once, not with every later one.
        fold.hash = stored;
        fold.chained = true;
      } else {
        if (fold.chained) {
          differences.push({ ...at, model: 'event store', field: 'hash', expected: 'a hash', found: null, detail: 'an event without a hash after the chain began' });
        }
        fold.hash = chainHash(fold.hash, event);
        fold.legacy = { revision: event.revision, hash: fold.hash };
      }
      const start = starts.get(stream);
      if (start && start.revision === event.revision && start.hash !== fold.hash) {
        differences.push({ ...at, model: 'event store', field: 'starting hash', expected: start.hash, found: fold.hash, detail: 'events written before the chain changed since their starting hash was recorded' });
      }
      if (against !== null && event.position <= against) fold.hashAtAgainst = fold.hash;
      if (streamCategory(stream) === 'stockitem') {
        try {
          fold.level = evolveStockLevel(fold.level, parseEvent(event.type, event.data, event.metadata.schemaVersion), event, {});
        } catch (error) {
          differences.push({ ...at, model: 'event store', field: 'data', expected: 'a readable event', found: event.type, detail: error instanceof Error ? error.message : String(error) });
        }
      }
      fold.revision = event.revision;
      fold.position = event.position;
      streams.set(stream, fold);
      events += 1;
    }
    const last = page.at(-1);
    if (last) input.progress(events, last.position);
    if (!last || within.length < page.length || last.position >= head) break;
    after = last.position;
  }
  for (const [stream, start] of starts) {
    const fold = streams.get(stream);
    if (!fold || fold.revision < start.revision) {
      differences.push({ stream, model: 'event store', field: 'revision', expected: start.revision, found: fold?.revision ?? -1, detail: 'events recorded in a starting hash are gone' });
    }
  }
  return { streams, events };
}
