import { LRUCache } from 'lru-cache';
/** A stream's state after its events up to `revision`. */
export interface StreamState<State> {
  state: State;
  /** -1 when the stream does not exist. */
  revision: number;
  /** Position of the stream's last event; 0n when none. */
  position: bigint;
  /** The chain hash of the stream's last event (its seed when none): the next event chains to it. */
  hash: string;
}

/** A stream's state as this process last saw it in the store, and when it saw it. */
export type CachedState<S> = StreamState<S> & { verifiedAt: number };

/**
 * The states of the streams this process decided on or read, by stream id: a stock item's
 * stream grows for years, and with its state cached a command reads only the events after
 * the cached revision. A cached state is a guess the append's expected revision verifies.
 *
 * Bounded by the number of streams (lru-cache; the least recently used go first): a state
 * keeps only what decisions need (evolve folds away the rest), so each is small and the
 * count bounds the memory (50,000 streams unless the handler is told otherwise).
 */
export class StateCache {
  private readonly states: LRUCache<string, CachedState<unknown>>;

  constructor(maxStreams = 50_000) {
    this.states = new LRUCache({ max: maxStreams });
  }

  /**
   * The state of a stream, typed as its aggregate's: a stream id names one aggregate's
   * stream, so what was remembered under it is that aggregate's state.
   */
  get<S>(streamId: string): CachedState<S> | undefined {
    return this.states.get(streamId) as CachedState<S> | undefined;
  }

  /** Seen in the store (read, or written by this process) just now. */
  remember(streamId: string, loaded: StreamState<unknown>): void {
    this.states.set(streamId, { state: loaded.state, revision: loaded.revision, position: loaded.position, hash: loaded.hash, verifiedAt: Date.now() });
  }
}
