/**
 * Group commit for es_append. Each append costs PostgreSQL a round trip, a transaction and a
 * WAL flush; appends that arrive while earlier ones are on the wire are gathered and sent as
 * one es_append_many call (migrations 024, 028): one trip, one transaction, one flush for all.
 *
 * No timer: an append that finds fewer than `maxInFlight` trips under way leaves at once, on
 * its own; only appends that arrive while `maxInFlight` trips are out wait, and they wait
 * for the first of those to come back, then leave together. A lone writer never waits.
 * With `extraTrips: 'when-matched'` a trip beside another waits until it carries as many
 * appends as the smallest one under way (docs/benchmarks.md, "es_append_many's fixed cost
 * per trip").
 *
 * Each append keeps its own outcome. A conflict is a row of its own (es_append never throws
 * for one). An error fails the whole call (one transaction, rolled back: nothing of it
 * written); the batch is then sent again one append per trip, so the error reaches only the
 * append that causes it. Sending again is safe even if the failed call had committed (a
 * connection lost after COMMIT): es_append recognizes its event ids and answers the first
 * result.
 */

export interface AppendRequest {
  streamId: string;
  /** es_append's code: -1 no stream, -2 any, -3 stream exists, n >= 0 exactly n. */
  expected: number;
  /** The events as the JSON array es_append takes. */
  payload: string;
}

/** How the appends reach PostgreSQL; the rows are parsed by the caller. */
export interface AppendTransport {
  /** One es_append: its row. */
  one(request: AppendRequest): Promise<unknown>;
  /** One es_append_many, appends in this order: one row per append, in the same order. */
  many(requests: readonly AppendRequest[]): Promise<unknown[]>;
}

export interface GroupCommitOptions {
  /**
   * Trips (connections) in use at once before appends start to gather. Fewer trips, bigger
   * batches: fewer transactions and WAL flushes for the same appends.
   */
  maxInFlight: number;
  /** Appends per trip at most. */
  maxBatch: number;
  /**
   * When a trip beyond the first leaves (maxInFlight > 1). 'at-once': as soon as an append
   * finds a trip free, as the first. 'when-matched': only once the appends waiting are at
   * least as many as the smallest trip under way (or maxBatch), so that an extra trip never
   * carries fewer appends than the one before it: the per-trip cost is not paid for fewer
   * appends than one trip at a time would carry. 'at-once' when not given.
   */
  extraTrips?: 'at-once' | 'when-matched';
}

/**
 * Two trips, the second leaving when matched: while one trip's backend works or waits on its
 * flush, the next trip's appends are already on their way, and never fewer of them than the
 * first carries (docs/decisions.md, "Two group-commit trips by default").
 */
export const GROUP_COMMIT_DEFAULTS: GroupCommitOptions = { maxInFlight: 2, maxBatch: 50, extraTrips: 'when-matched' };

interface Pending {
  request: AppendRequest;
  resolve(row: unknown): void;
  reject(error: unknown): void;
}

export interface BatcherStats {
  /** Trips sent (es_append and es_append_many calls, fallbacks included). */
  trips: number;
  /** Appends answered. */
  appends: number;
  /** es_append_many calls that failed and were sent again one by one. */
  fallbacks: number;
  /** Trips that left while another was under way. */
  overlapped: number;
}

export class AppendBatcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Appends carried by each trip under way. */
  private readonly tripSizes = new Set<{ size: number }>();
  readonly stats: BatcherStats = { trips: 0, appends: 0, fallbacks: 0, overlapped: 0 };

  constructor(
    private readonly transport: AppendTransport,
    private readonly options: GroupCommitOptions = GROUP_COMMIT_DEFAULTS,
  ) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (options.extraTrips !== undefined && options.extraTrips !== 'at-once' && options.extraTrips !== 'when-matched') throw new RangeError(`extraTrips must be 'at-once' or 'when-matched'`);
  }

  append(request: AppendRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0 && this.mayLeave()) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      const trip = { size: batch.length };
      if (this.inFlight > 0) this.stats.overlapped += 1;
      this.inFlight += 1;
      this.tripSizes.add(trip);
      void this.send(batch).then((settle) => {
        // The trip is over before its callers hear of it: one that appends again at once
        // finds the slot free rather than queueing behind its own finished trip.
        this.inFlight -= 1;
        this.tripSizes.delete(trip);
        this.dispatch();
        for (const done of settle) done();
      });
    }
  }

  /** Whether the appends waiting may leave now, a trip being free. */
  private mayLeave(): boolean {
    if (this.inFlight === 0 || this.options.extraTrips !== 'when-matched') return true;
    let smallest = this.options.maxBatch;
    for (const trip of this.tripSizes) smallest = Math.min(smallest, trip.size);
    return this.queue.length >= smallest;
  }

  /** Sends one batch; answers how to settle each of its callers (never rejects). */
  private async send(batch: Pending[]): Promise<(() => void)[]> {
    const [first, second] = batch;
    if (first === undefined) return [];
    if (second === undefined) return [await this.sendAlone(first)];
    // Stream id order (stable: one stream's appends keep their arrival order), so every
    // call locks stream rows in the same order and two calls cannot deadlock.
    const sorted = batch
      .map((pending, index) => ({ pending, index }))
      .sort((a, b) => (a.pending.request.streamId < b.pending.request.streamId ? -1 : a.pending.request.streamId > b.pending.request.streamId ? 1 : a.index - b.index))
      .map(({ pending }) => pending);
    let rows: unknown[];
    try {
      this.stats.trips += 1;
      rows = await this.transport.many(sorted.map((pending) => pending.request));
      if (rows.length !== sorted.length) throw new Error(`es_append_many answered ${rows.length} rows for ${sorted.length} appends`);
    } catch {
      this.stats.fallbacks += 1;
      return Promise.all(sorted.map((pending) => this.sendAlone(pending)));
    }
    this.stats.appends += sorted.length;
    return sorted.map((pending, index) => () => pending.resolve(rows[index]));
  }

  private async sendAlone(pending: Pending): Promise<() => void> {
    this.stats.trips += 1;
    try {
      const row = await this.transport.one(pending.request);
      this.stats.appends += 1;
      return () => pending.resolve(row);
    } catch (error) {
      return () => pending.reject(error);
    }
  }
}
