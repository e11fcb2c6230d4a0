import { setTimeout as sleep } from 'node:timers/promises';
import { CURRENT_SCHEMA_VERSION, parseEvent, type StockroomEvent } from '../shared/events/index.js';
import { AppError, VersionConflict } from '../shared/errors.js';
import {
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedRevision,
} from '../shared/event-store/port.js';
import { chainHash, chainSeed, hashOf } from '../shared/event-store/chain.js';
import { type Backoff, backoffDelayMs } from '../shared/backoff.js';
import { deterministicId, newId } from '../shared/ids.js';
import { type Snapshot, type SnapshotStore, UnreadableSnapshot } from '../shared/snapshots/port.js';
import type { Aggregate, SnapshotSpec } from './aggregate.js';
import { type CachedState, StateCache, type StreamState } from './state-cache.js';

/** Who asks, and how the answer must relate to what they saw. */
export interface CommandContext {
  actor: string | null;
  correlationId: string;
  causationId?: string | null;
  now: Date;
  /** The revision the client saw (If-Match): no retry, a mismatch is a 409. */
  ifMatch?: number;
  /** Set under an Idempotency-Key: event ids derive from it, so a repeat writes nothing. */
  idempotency?: { scope: string; key: string };
}

/** A stream's state as the handler loads it (state-cache.ts keeps the same). */
export type Loaded<State> = StreamState<State>;

export interface Handled<State, Event> extends Loaded<State> {
  events: Event[];
  /** False when nothing was appended: the decider had nothing to do, or it was a repeat. */
  written: boolean;
}

/**
 * Without If-Match, a command means "apply to whatever is current", so losing a race is
 * answered by deciding again on the fresh state (the decider re-checks every rule, so
 * stock still never goes negative). The client did not ask about versions, so it never
 * gets a 409 for losing: the handler keeps trying, after a jittered back-off that spreads
 * the racing replicas apart, until a deadline; past it the answer is 503 with Retry-After.
 */
const CONTENTION_DEADLINE_MS = 2_000;
const CONTENTION_BACKOFF: Backoff = { baseMs: 5, maxMs: 100 };

/** Other writers kept winning the stream until the deadline: the client should come back. */
export class Contended extends AppError {
  constructor(streamId: string, attempts: number) {
    super(503, 'contended', `Other changes to this resource kept winning over ${attempts} attempts; retry shortly.`, {
      stream: streamId,
      retryAfterSeconds: 1,
    });
  }
}

/**
 * A snapshot every this many events of a stream: the most a cold load folds past one is
 * then under 1,000 events (a few ms; docs/benchmarks.md, "Cold start"), and a snapshot's
 * write (about one append's cost, off the command's path) comes once per 1,000 appends.
 */
export const SNAPSHOT_EVERY = 1_000;

/** Where the handler says what went wrong with an optimisation that it then did without (pino's shape). */
export interface HandlerLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface CommandHandlerOptions {
  /** Streams whose state is kept in memory (state-cache.ts). */
  cacheSize?: number;
  /** How long a command without If-Match keeps deciding again after losing races. */
  contentionDeadlineMs?: number;
  /** Snapshots of the streams of aggregates that declare them (aggregate.ts). */
  snapshots?: { store: SnapshotStore; log: HandlerLog; every?: number };
  /** Events read per round trip when folding (READ_PAGE unless told; tests make it small). */
  readPage?: number;
}

/**
 * A fold reads the stream in pages of this many events: a stream of a million events is
 * never held in memory at once, and one longer than a store's default read (PostgreSQL's
 * readStream stops at 1,000,000) is read to its end. A catch-up of a few events is one page.
 */
export const READ_PAGE = 10_000;

/** A command waiting for its stream, its aggregate's types erased (see handle). */
interface Job {
  aggregate: Aggregate<unknown, StockroomEvent, unknown>;
  commands: readonly unknown[];
  context: CommandContext;
  resolve(handled: Handled<unknown, StockroomEvent>): void;
  reject(error: unknown): void;
}

/** What one job of a batch came to: refused, or its events and the state, hash and count of events before it. */
type Outcome = { refusal: unknown } | { events: StockroomEvent[]; state: unknown; hash: string; appendedBefore: number };

/**
 * The most commands appended together: their events go in one es_append call (a few
 * hundred bytes each), and one loss decides them all again.
 */
const MAX_BATCH = 64;

/** A command checked against a version or a key runs alone (its rules are per command); plain ones go together. */
const runsAlone = (job: Job): boolean => job.context.ifMatch !== undefined || job.context.idempotency !== undefined;

/** The next job alone, or the plain jobs at the head of the queue (at most MAX_BATCH), taken off it. */
function takeBatch(queue: Job[]): Job[] {
  const first = queue[0]!;
  if (runsAlone(first)) return queue.splice(0, 1);
  let count = 1;
  while (count < queue.length && count < MAX_BATCH && !runsAlone(queue[count]!) && queue[count]!.aggregate === first.aggregate) count += 1;
  return queue.splice(0, count);
}

/**
 * The one command handler: load (cached) → decide → append with the expected revision.
 *
 * States are kept in memory by stream with their revision (state-cache.ts). A command
 * decides on the cached state and appends expecting that revision; if another process
 * wrote meanwhile the append conflicts, the handler reads only the events after the
 * cached revision, and decides again. Reads that must be fresh (`load`) always catch up
 * first.
 */
export class CommandHandler {
  private readonly cache: StateCache;
  /** Commands waiting for their stream, the one running first: see handle. */
  private readonly queues = new Map<string, Job[]>();
  private readonly contentionDeadlineMs: number;
  private readonly snapshots: { store: SnapshotStore; log: HandlerLog; every: number } | null;
  private readonly snapshotWrites = new Set<Promise<void>>();
  private readonly readPage: number;

  constructor(
    private readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.cache = new StateCache(options.cacheSize);
    this.contentionDeadlineMs = options.contentionDeadlineMs ?? CONTENTION_DEADLINE_MS;
    this.readPage = options.readPage ?? READ_PAGE;
    if (!(Number.isInteger(this.readPage) && this.readPage > 1)) throw new RangeError(`a read page of ${this.readPage} events: a whole number above 1 is needed`);
    this.snapshots = options.snapshots ? { every: SNAPSHOT_EVERY, ...options.snapshots } : null;
    if (this.snapshots && !(Number.isInteger(this.snapshots.every) && this.snapshots.every > 0)) {
      throw new RangeError(`snapshots every ${this.snapshots.every} events: a positive whole number is needed`);
    }
  }

  /** The current state of a stream, caught up with the store. */
  async load<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string): Promise<Loaded<S>> {
    const hit = this.cache.get<S>(streamId);
    return hit ? this.catchUp(aggregate, streamId, hit) : this.coldLoad(aggregate, streamId);
  }

  /** Resolves once every snapshot write started so far has ended (they never fail: see takeSnapshot). */
  async snapshotsWritten(): Promise<void> {
    await Promise.all([...this.snapshotWrites]);
  }

  /**
   * The state as this process last saw it in the store, if that was at most `maxAgeMs`
   * ago (its own writes count as seeing it); otherwise caught up like `load`. For reads on
   * every request (authentication) that may trail another replica's write by that much.
   */
  async loadRecent<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string, maxAgeMs: number): Promise<Loaded<S>> {
    return this.recent<S>(streamId, maxAgeMs) ?? this.load(aggregate, streamId);
  }

  /** What loadRecent answers without a read: the state seen at most `maxAgeMs` ago (and when), else undefined. */
  recent<S>(streamId: string, maxAgeMs: number): CachedState<S> | undefined {
    const hit = this.cache.get<S>(streamId);
    return hit && Date.now() - hit.verifiedAt <= maxAgeMs ? hit : undefined;
  }

  /**
   * Commands to one stream from this process run one after another: a hot item's writers
   * would otherwise all decide on the same revision and all but one lose the append.
   * Those that queued up behind an append are then decided together, each on the state the
   * ones before it leave, and appended in one round trip (appendTogether). Other processes
   * still race, and the expected revision settles that.
   */
  handle<C, E extends StockroomEvent, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    command: C | readonly C[],
    context: CommandContext,
  ): Promise<Handled<S, E>> {
    return new Promise<Handled<S, E>>((resolve, reject) => {
      // Erased to the queue's one type: a stream id names one aggregate's stream, so the
      // jobs of a queue are of one aggregate, and each job's promise gets its own types back.
      const job = {
        aggregate,
        commands: Array.isArray(command) ? command : [command as C],
        context,
        resolve,
        reject,
      } as unknown as Job;
      const queue = this.queues.get(streamId);
      if (queue) {
        queue.push(job);
        return;
      }
      this.queues.set(streamId, [job]);
      void this.drain(streamId);
    });
  }

  /** Runs a stream's queue until it is empty: a job alone, or the plain ones waiting together. */
  private async drain(streamId: string): Promise<void> {
    const queue = this.queues.get(streamId)!;
    while (queue.length > 0) {
      const batch = takeBatch(queue);
      if (batch.length === 1) {
        const job = batch[0]!;
        try {
          job.resolve(await this.decideAndAppend(job.aggregate, streamId, job.commands, job.context));
        } catch (error) {
          job.reject(error);
        }
      } else {
        await this.appendTogether(batch[0]!.aggregate, streamId, batch);
      }
    }
    this.queues.delete(streamId);
  }

  /**
   * Several plain commands (no If-Match, no Idempotency-Key) of one stream, decided in
   * their order, each on the state the ones before it leave, and appended as one: one
   * round trip and one expected revision for all. No answer is given until the append
   * that proves the state it was decided on has succeeded: a lost append decides every
   * command again on the truth, the refused ones included, and a batch with nothing to
   * append, decided on a cached state, is decided again on the truth first. A command that
   * is refused writes nothing; the others' events are appended whole or not at all.
   *
   * Every command answers with its own revision and state, and with the position of the
   * batch's last event: at or after its own, so a read with X-Min-Position waits for it
   * (and at most for the few events appended with it).
   */
  private async appendTogether(aggregate: Aggregate<unknown, StockroomEvent, unknown>, streamId: string, jobs: readonly Job[]): Promise<void> {
    const settleAll = (error: unknown) => {
      for (const job of jobs) job.reject(error);
    };
    try {
      const hit = this.cache.get<unknown>(streamId);
      let fresh = !hit;
      let current: Loaded<unknown> = hit ?? (await this.load(aggregate, streamId));
      const deadline = Date.now() + this.contentionDeadlineMs;
      let races = 0;
      for (let attempt = 1; ; attempt += 1) {
        const decided = this.decideInTurn(aggregate, streamId, jobs, current);
        if (decided.envelopes.length === 0 && !fresh) {
          // Only refusals and no-ops, on a cached state: nothing to append that would
          // prove it current, so read the truth and decide again.
          current = await this.catchUp(aggregate, streamId, current);
          fresh = true;
          continue;
        }
        if (decided.envelopes.length === 0) {
          // Nothing to write: every command was refused or changed nothing, on the truth.
          decided.outcomes.forEach((outcome, index) => {
            const job = jobs[index]!;
            if ('refusal' in outcome) job.reject(outcome.refusal);
            else job.resolve({ ...current, events: [], written: false });
          });
          return;
        }
        const expected: ExpectedRevision = current.revision === -1 ? 'no_stream' : current.revision;
        try {
          const result = await this.store.append(streamId, decided.envelopes, expected);
          // Fresh random event ids cannot be a repeat: a "duplicate" would be a broken store.
          if (!result.written) throw new Error(`append to ${streamId}: fresh events were taken for a repeat`);
          const next: Loaded<unknown> = { state: decided.state, revision: result.revision, position: result.position, hash: decided.hash };
          this.appended(aggregate, streamId, current, next);
          const firstRevision = result.revision - decided.envelopes.length;
          decided.outcomes.forEach((outcome, index) => {
            const job = jobs[index]!;
            if ('refusal' in outcome) {
              job.reject(outcome.refusal);
              return;
            }
            const position = outcome.appendedBefore + outcome.events.length > 0 ? result.position : current.position;
            job.resolve({
              state: outcome.state,
              revision: firstRevision + outcome.appendedBefore + outcome.events.length,
              position,
              hash: outcome.hash,
              events: outcome.events,
              written: outcome.events.length > 0,
            });
          });
          return;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevision)) throw error;
          if (fresh) races += 1;
          await this.afterLoss(streamId, attempt, deadline, fresh ? races : null);
          current = await this.afterConflict(aggregate, streamId, current, error, !fresh);
          fresh = true;
        }
      }
    } catch (error) {
      settleAll(error);
    }
  }

  /**
   * Each job decided on the state the ones before it leave, its events chained after
   * theirs. Refusals and no-ops decided on a cached state need no read of the truth when
   * the others' events are appended with them: the append's expected revision proves the
   * state they were decided on was the stream's, as it proves it for the others.
   */
  private decideInTurn(
    aggregate: Aggregate<unknown, StockroomEvent, unknown>,
    streamId: string,
    jobs: readonly Job[],
    from: Loaded<unknown>,
  ): { outcomes: Outcome[]; envelopes: EventToAppend[]; state: unknown; hash: string } {
    let state = from.state;
    let hash = from.hash;
    const outcomes: Outcome[] = [];
    const envelopes: EventToAppend[] = [];
    for (const job of jobs) {
      let events: StockroomEvent[];
      try {
        events = this.decideAll(aggregate, job.commands, state);
      } catch (refusal) {
        outcomes.push({ refusal });
        continue;
      }
      const appendedBefore = envelopes.length;
      if (events.length > 0) {
        state = events.reduce(aggregate.decider.evolve, state);
        const own = this.envelopes(streamId, events, job.context, hash);
        hash = own.at(-1)!.metadata.hash!;
        envelopes.push(...own);
      }
      outcomes.push({ events, state, hash, appendedBefore });
    }
    return { outcomes, envelopes, state, hash };
  }

  /**
   * After an append lost without If-Match: past the deadline it gives up. A loss on a
   * cached state that another process had moved past is no race (the cache was behind):
   * catch up and decide again at once (`race` null). Only a loss on the truth is a race,
   * and the nth race backs off longer.
   */
  /** After an append of ours: the cache holds the new state, and a snapshot is taken at each multiple of `every` crossed (whichever replica appends there). */
  private appended<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string, before: Loaded<S>, next: Loaded<S>): void {
    this.cache.remember(streamId, next);
    if (this.snapshots && Math.floor(next.revision / this.snapshots.every) > Math.floor(before.revision / this.snapshots.every)) {
      this.takeSnapshot(aggregate, streamId, next);
    }
  }

  private async afterLoss(streamId: string, attempt: number, deadline: number, race: number | null): Promise<void> {
    if (Date.now() >= deadline) throw new Contended(streamId, attempt);
    if (race !== null) await sleep(Math.min(backoffDelayMs(race, CONTENTION_BACKOFF), Math.max(0, deadline - Date.now())));
  }

  /**
   * The state after a lost append. When the store answered the conflict with the events
   * after the expected revision (WrongExpectedRevision.missed) and no back-off slept since,
   * they are the truth as of the loss, in the same round trip: folded, no read. After a
   * back-off, or without them, the stream is read.
   */
  private async afterConflict<C, E extends StockroomEvent, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    current: Loaded<S>,
    conflict: WrongExpectedRevision,
    answeredNow: boolean,
  ): Promise<Loaded<S>> {
    // The port promises `missed` only as every event after the expected revision up to `actual`.
    if (answeredNow && conflict.missed) {
      const loaded = this.fold(aggregate, current, conflict.missed);
      this.cache.remember(streamId, loaded);
      return loaded;
    }
    return this.catchUp(aggregate, streamId, current);
  }

  private async decideAndAppend<C, E extends StockroomEvent, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    commands: readonly C[],
    context: CommandContext,
  ): Promise<Handled<S, E>> {
    if (context.idempotency) {
      // A repeat must not be decided again: on the state after its own first run the
      // decider could refuse it ("already exists", "insufficient stock").
      let earlier = await this.store.readEvent(this.eventId(streamId, context, 0));
      if (earlier && earlier.streamId === streamId) {
        // The answer of the first run: the revision and position of its last event.
        for (let index = 1; ; index += 1) {
          const next = await this.store.readEvent(this.eventId(streamId, context, index));
          if (!next || next.streamId !== streamId) break;
          earlier = next;
        }
        const now = await this.load(aggregate, streamId);
        return { ...now, revision: earlier.revision, position: earlier.position, events: [], written: false };
      }
    }
    const hit = this.cache.get<S>(streamId);
    // A cached state is a guess that the append's expected revision will verify; with
    // If-Match the client's version is checked against the truth instead.
    let fresh = !hit || context.ifMatch !== undefined;
    let current = fresh ? await this.load(aggregate, streamId) : hit!;
    const deadline = Date.now() + this.contentionDeadlineMs;
    let races = 0;
    for (let attempt = 1; ; attempt += 1) {
      if (context.ifMatch !== undefined && context.ifMatch !== current.revision) {
        throw new VersionConflict(streamId, current.revision);
      }
      let events: E[];
      try {
        events = this.decideAll(aggregate, commands, current.state);
      } catch (refusal) {
        // Refused on a cached state: it may be stale, so ask again on the truth first.
        if (fresh) throw refusal;
        current = await this.catchUp(aggregate, streamId, current);
        fresh = true;
        continue;
      }
      if (events.length === 0) {
        // Nothing to write, but the answer must reflect the truth, not a stale cache.
        if (fresh) return { ...current, events, written: false };
        current = await this.catchUp(aggregate, streamId, current);
        fresh = true;
        continue;
      }
      const expected: ExpectedRevision = current.revision === -1 ? 'no_stream' : current.revision;
      try {
        const envelopes = this.envelopes(streamId, events, context, current.hash);
        const result = await this.store.append(streamId, envelopes, expected);
        if (!result.written) {
          // A repeat of an earlier request under the same Idempotency-Key: nothing new.
          const after = await this.catchUp(aggregate, streamId, current);
          return { ...after, revision: result.revision, position: result.position, events: [], written: false };
        }
        const next = { state: events.reduce(aggregate.decider.evolve, current.state), revision: result.revision, position: result.position, hash: envelopes.at(-1)!.metadata.hash! };
        this.appended(aggregate, streamId, current, next);
        return { ...next, events, written: true };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision)) throw error;
        const backedOff = context.ifMatch === undefined && fresh;
        if (context.ifMatch === undefined) {
          if (fresh) races += 1;
          await this.afterLoss(streamId, attempt, deadline, fresh ? races : null);
        }
        current = await this.afterConflict(aggregate, streamId, current, error, !backedOff);
        fresh = true;
        if (context.ifMatch !== undefined) throw new VersionConflict(streamId, current.revision);
      }
    }
  }

  /** Several commands on one stream (a PATCH touching two things) decide in turn and append as one. */
  private decideAll<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, commands: readonly C[], state: S): E[] {
    const events: E[] = [];
    for (const command of commands) {
      const decided = aggregate.decider.decide(command, state);
      state = decided.reduce(aggregate.decider.evolve, state);
      events.push(...decided);
    }
    return events;
  }

  /** Events of a stream as the domain reads them: upcast and validated. */
  toDomainEvent<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, recorded: RecordedEvent): E {
    const event = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
    if (!aggregate.eventTypes.has(event.type)) {
      throw new Error(`Stream ${recorded.streamId} holds ${event.type}, not an event of a ${aggregate.name}`);
    }
    return event as E;
  }

  private initial<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string): Loaded<S> {
    return { state: aggregate.decider.initialState(), revision: -1, position: 0n, hash: chainSeed(streamId) };
  }

  /**
   * No state in memory (a restart, or evicted): from the stream's snapshot when one can be
   * trusted, else from the first event. Either way a long fold leaves a snapshot behind.
   */
  private async coldLoad<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string): Promise<Loaded<S>> {
    const spec = aggregate.snapshots;
    if (spec && this.snapshots) {
      const fromSnapshot = await this.fromSnapshot(aggregate, spec, streamId);
      if (fromSnapshot) return fromSnapshot;
    }
    const loaded = await this.catchUp(aggregate, streamId, this.initial(aggregate, streamId));
    if (this.snapshots && loaded.revision + 1 >= this.snapshots.every) this.takeSnapshot(aggregate, streamId, loaded);
    return loaded;
  }

  /**
   * The state from a snapshot and the events after it, or null when there is none or it
   * cannot be trusted (then said in the log). The stream is read from the snapshot's own
   * revision: the event there must have the position and chain hash the snapshot recorded,
   * so a snapshot of another history (a restored or rebuilt store) is never used, and the
   * revision the next append expects and the hash it chains to come from the events.
   */
  private async fromSnapshot<C, E extends StockroomEvent, S>(
    aggregate: Aggregate<C, E, S>,
    spec: SnapshotSpec<S>,
    streamId: string,
  ): Promise<Loaded<S> | null> {
    const snapshots = this.snapshots!;
    let refusal: { reason: string; err?: unknown } | null = null;
    let snapshot: Snapshot | null = null;
    try {
      snapshot = await snapshots.store.read(streamId, spec.fingerprint);
    } catch (error) {
      // The optimisation's own failure is not the command's: fold the whole stream. An
      // event that does not read (below) fails the command just as a full fold would.
      if (!(error instanceof UnreadableSnapshot)) {
        snapshots.log.warn({ stream: streamId, err: error }, 'snapshot not read, folding the whole stream');
        return null;
      }
      refusal = { reason: 'its row does not parse', err: error };
    }
    if (snapshot) {
      const state = spec.state.safeParse(snapshot.state);
      if (!state.success) {
        refusal = { reason: 'its state does not parse', err: state.error };
      } else {
        const recorded = await this.store.readStream(streamId, { fromRevision: snapshot.revision, maxCount: this.readPage });
        const covered = recorded[0];
        if (!covered || covered.revision !== snapshot.revision) refusal = { reason: `the stream has no event at revision ${snapshot.revision}` };
        else if (covered.position !== snapshot.position) refusal = { reason: `the event at revision ${snapshot.revision} is at another position` };
        else if (covered.metadata.hash !== undefined && covered.metadata.hash !== snapshot.hash) refusal = { reason: `the event at revision ${snapshot.revision} has another chain hash` };
        else {
          const at: Loaded<S> = { state: state.data, revision: snapshot.revision, position: snapshot.position, hash: snapshot.hash };
          let loaded = this.fold(aggregate, at, recorded.slice(1));
          if (recorded.length === this.readPage) loaded = await this.catchUp(aggregate, streamId, loaded);
          this.cache.remember(streamId, loaded);
          if (loaded.revision - snapshot.revision >= snapshots.every) this.takeSnapshot(aggregate, streamId, loaded);
          return loaded;
        }
      }
    }
    if (!refusal) return null;
    snapshots.log.warn({ stream: streamId, fingerprint: spec.fingerprint, reason: refusal.reason, ...(refusal.err ? { err: refusal.err } : {}) }, 'snapshot not used, folding the whole stream');
    // Awaited (a rare path): the snapshot the full fold may take next must not race the delete.
    await snapshots.store.discard(streamId, spec.fingerprint).catch((error: unknown) => snapshots.log.warn({ stream: streamId, err: error }, 'snapshot not discarded'));
    return null;
  }

  /** Written off the command's path; a failure is logged, never the command's (a snapshot is an optimisation). */
  private takeSnapshot<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, streamId: string, loaded: Loaded<S>): void {
    const spec = aggregate.snapshots;
    const snapshots = this.snapshots;
    if (!spec || !snapshots) return;
    const snapshot = { streamId, fingerprint: spec.fingerprint, revision: loaded.revision, position: loaded.position, hash: loaded.hash, state: loaded.state };
    this.track(
      snapshots.store
        .write(snapshot)
        .catch((error: unknown) => snapshots.log.warn({ stream: streamId, revision: loaded.revision, err: error }, 'snapshot not written; a cold load folds from the one before')),
    );
  }

  private track(write: Promise<void>): void {
    this.snapshotWrites.add(write);
    void write.finally(() => this.snapshotWrites.delete(write));
  }

  private fold<C, E extends StockroomEvent, S>(aggregate: Aggregate<C, E, S>, from: Loaded<S>, recorded: readonly RecordedEvent[]): Loaded<S> {
    const last = recorded.at(-1);
    if (!last) return from;
    const state = recorded.reduce((state, event) => aggregate.decider.evolve(state, this.toDomainEvent(aggregate, event)), from.state);
    const hash = recorded.reduce((previous, event) => hashOf(previous, event), from.hash);
    return { state, revision: last.revision, position: last.position, hash };
  }

  private async catchUp<C, E extends StockroomEvent, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    from: Loaded<S>,
  ): Promise<Loaded<S>> {
    let loaded = from;
    for (;;) {
      const page = await this.store.readStream(streamId, { fromRevision: loaded.revision + 1, maxCount: this.readPage });
      loaded = this.fold(aggregate, loaded, page);
      if (page.length < this.readPage) break;
    }
    if (loaded.revision >= 0) this.cache.remember(streamId, loaded);
    return loaded;
  }

  private eventId(streamId: string, context: CommandContext, index: number): string {
    return context.idempotency
      ? deterministicId(context.idempotency.scope, context.idempotency.key, streamId, String(index))
      : newId();
  }

  /** Each event chained to the one before it, the first to the head the command decided on. */
  private envelopes(streamId: string, events: readonly StockroomEvent[], context: CommandContext, head: string): EventToAppend[] {
    const at = context.now.toISOString();
    let previous = head;
    return events.map((event, index) => {
      const envelope: EventToAppend = {
        id: this.eventId(streamId, context, index),
        type: event.type,
        data: event.data,
        metadata: {
          actor: context.actor,
          correlationId: context.correlationId,
          causationId: context.causationId ?? null,
          at,
          schemaVersion: CURRENT_SCHEMA_VERSION,
          ...(context.idempotency ? { idempotencyKey: context.idempotency.key } : {}),
        },
      };
      previous = chainHash(previous, envelope);
      envelope.metadata.hash = previous;
      return envelope;
    });
  }
}
