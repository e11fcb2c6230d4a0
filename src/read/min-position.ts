import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';
import { AppError, ValidationFailed } from '../shared/errors.js';
import { sendProblem, toProblem } from '../shared/http/problem.js';
import { stuckStream } from '../shared/read-model/stuck-streams.js';
import { partitionOf } from '../shared/event-bus/partition.js';
import type { ProgressSignal } from '../shared/read-model/progress-signal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The one stream a point read reads, from its validated params. With X-Min-Position
     * such a read is refused while the projector is stuck on that stream.
     */
    readsStream?: (params: unknown) => string;
  }
}

const MAX_POSITION = 9_223_372_036_854_775_807n;
const positionPattern = /^\d{1,19}$/;
const HEADER = 'x-min-position';

/** For route schemas (OpenAPI); loose, so that validation keeps every other header. */
export const minPositionHeaders = z.looseObject({
  [HEADER]: z
    .string()
    .regex(positionPattern, 'must be a global position, a decimal number such as "1234"')
    .optional()
    .describe('Wait (bounded) until the read model has applied this global position: read your own writes.'),
});

export interface MinPositionOptions {
  pool: DatabasePool;
  /** The PostgreSQL schema of the read model. */
  schema: string;
  /** How long a request may wait before it is answered 503. */
  timeoutMs: number;
  /** How often the watermark is read while someone waits. */
  pollIntervalMs?: number;
  /**
   * Wakes the waiters when a projector commits a batch with events (LISTEN), before their
   * next poll; they poll as well (watermark-only batches do not notify).
   */
  signal?: ProgressSignal | null;
}

const snapshotRow = z.union([
  z.object({ partition: z.number().int(), through: z.bigint(), stuck: z.null() }),
  z.object({ partition: z.null(), through: z.null(), stuck: z.string() }),
]);

/**
 * The read model as one statement saw it: how far it has applied each partition of the bus,
 * and the streams it stopped on. One snapshot, because the projector marks a stream stuck
 * and moves the partition past its event in one transaction: a stuck check and a progress
 * read taken apart could see the progress without the mark, and answer stale.
 */
interface ReadModelSnapshot {
  progress: Map<number, bigint>;
  stuck: ReadonlySet<string>;
  /** The signal's generation when the query started: a notification after it may be news. */
  generation: number;
}

class Watermark {
  private inFlight: Promise<ReadModelSnapshot> | null = null;

  constructor(
    private readonly pool: DatabasePool,
    private readonly schema: string,
    private readonly signal: ProgressSignal | null,
  ) {}

  /** One query at a time for every waiting request of this process. */
  read(): Promise<ReadModelSnapshot> {
    // Stuck streams are an operator's alert, a handful at most: read whole.
    const generation = this.signal?.generation ?? 0;
    this.inFlight ??= this.pool
      .any(sql.unsafe`
        select partition, through, null::text as stuck from ${sql.identifier([this.schema, 'progress'])}
        union all
        select null, null, stream_id from ${sql.identifier([this.schema, 'stuck_streams'])}`)
      .then((rows) => {
        const snapshot = { progress: new Map<number, bigint>(), stuck: new Set<string>(), generation };
        for (const row of rows.map((raw) => snapshotRow.parse(raw))) {
          if (row.stuck === null) snapshot.progress.set(row.partition, row.through);
          else snapshot.stuck.add(row.stuck);
        }
        return snapshot;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}

/**
 * What a read has to wait for: for one stream, the partition that carries it (every
 * event of that partition up to `through` is applied, so that stream's are); otherwise the
 * least of all partitions (0 before any).
 */
export function reachedFor(progress: ReadonlyMap<number, bigint>, stream: string | undefined): bigint {
  if (progress.size === 0) return 0n;
  if (stream !== undefined) {
    // Partitions are numbered 0..n-1 (registered at the projector's start); one missing reads as 0.
    const partitions = Math.max(...progress.keys()) + 1;
    return progress.get(partitionOf(stream, partitions)) ?? 0n;
  }
  let least: bigint | null = null;
  for (const through of progress.values()) if (least === null || through < least) least = through;
  return least ?? 0n;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Parses `X-Min-Position`; undefined when absent, 400 naming the header when malformed. */
export function minPositionOf(request: FastifyRequest): bigint | undefined {
  const header = request.headers[HEADER];
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? null : header.trim();
  if (text === null || !positionPattern.test(text) || BigInt(text) > MAX_POSITION) {
    throw new ValidationFailed(
      [{ field: `headers.${HEADER}`, reason: 'must be one global position, a decimal number such as "1234"' }],
      `headers.${HEADER} must be one global position, a decimal number.`,
    );
  }
  return BigInt(text);
}

/**
 * A preHandler for queries: with `X-Min-Position: N` the request waits until the read
 * model's watermark has reached N (for a point read of one stream, its partition's, and the
 * stream is not stuck, in the same snapshot) (reading it again at each notification of a
 * projector's commit, or polling, bounded by `timeoutMs`), so a client
 * reads its own writes. Past the bound it answers 503 with `Retry-After: 1`. The answer carries
 * `X-Read-Position`, the watermark it saw.
 */
export function minPositionGuard(options: MinPositionOptions) {
  const signal = options.signal ?? null;
  const watermark = new Watermark(options.pool, options.schema, signal);
  const interval = Math.max(1, options.pollIntervalMs ?? 5);

  /** Waits for `wanted`; true when it answered the request itself (503), false to go on. */
  const waitFor = async (request: FastifyRequest, reply: FastifyReply, wanted: bigint): Promise<boolean> => {
    const stream = request.routeOptions.config.readsStream?.(request.params);
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const seen = await watermark.read();
      if (stream !== undefined && seen.stuck.has(stream)) {
        // Waiting cannot help: the projector stopped on this stream until an operator retries it.
        const stuck = await stuckStream(options.pool, stream, options.schema);
        if (stuck) {
          const problem = new AppError(
            503,
            'stream-stuck',
            `The read model stopped on ${stuck.streamId} at event ${stuck.eventId} (position ${stuck.position}, ${stuck.type}): ${stuck.reason}. Its later changes are not applied until an operator retries it (npm run projections:stuck).`,
            { streamId: stuck.streamId, eventId: stuck.eventId, eventPosition: stuck.position, stuckSince: stuck.since },
          );
          void reply.header('retry-after', '60');
          sendProblem(reply, toProblem(problem, request));
          return true;
        }
        // Retried since that snapshot: look again rather than trust it.
        continue;
      }
      const reached = reachedFor(seen.progress, stream);
      if (reached >= wanted) {
        void reply.header('x-read-position', reached.toString());
        return false;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        request.log.warn({ wanted: wanted.toString(), reached: reached.toString() }, 'read model behind X-Min-Position');
        const behind = new AppError(
          503,
          'read-model-behind',
          `The read model has applied the events through position ${reached}, not yet ${wanted}; retry shortly.`,
          { position: wanted.toString(), readPosition: reached.toString() },
        );
        void reply.header('retry-after', '1').header('x-read-position', reached.toString());
        sendProblem(reply, toProblem(behind, request));
        return true;
      }
      if (signal?.listening) await signal.wait(seen.generation, Math.min(interval, remaining));
      else await sleep(Math.min(interval, remaining));
    }
  };

  // A callback hook: nearly every read carries no X-Min-Position, and then costs no promise.
  return function waitForMinPosition(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
    let wanted: bigint | undefined;
    try {
      wanted = minPositionOf(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (wanted === undefined) {
      done();
      return;
    }
    waitFor(request, reply, wanted).then(
      (answered) => {
        if (!answered) done();
      },
      (error: unknown) => done(error as Error),
    );
  };
}
