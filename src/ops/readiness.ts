import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { ForwarderStatus } from '../projections/forwarder.js';
import { lagOf, postgresReadModelCheckpoint } from '../projections/lag.js';
import type { BusHealth } from '../shared/event-bus/kafka.js';
import { reportAdmin } from './kafka-lag.js';
import { countStuckStreams, listStuckStreams } from '../shared/read-model/stuck-streams.js';
import type { DatabasePool } from '../shared/db/pool.js';
import { eventLogOf } from '../shared/event-store/log-queries.js';
import { withTimeout } from './timeout.js';

/**
 * A wait on a hole in the positions longer than this makes the forwarder not ready. An
 * append is one statement: waiting this long means a transaction holds an append open.
 */
export const GAP_WAIT_NOT_READY_MS = 10_000;

export const readinessCheckView = z.object({
  name: z.string(),
  ok: z.boolean(),
  reason: z.string().optional(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type ReadinessCheck = z.infer<typeof readinessCheckView>;

/**
 * The read model is stuck when an event older than this is still not applied: the read
 * API would answer every X-Min-Position read 503. A partition's progress moves past a
 * stuck stream, so one poison event does not count here (it is the `stuck-streams` check).
 */
export const READ_MODEL_STUCK_MS = 30_000;

/** The roles whose work goes through Kafka when KAFKA_BROKERS is set. */
const BUS_ROLES = ['forwarder', 'projector', 'mailer', 'notifier'];

export interface ReadinessSources {
  pool: DatabasePool;
  forwarder: (() => ForwarderStatus) | null;
  /** This process's roles (ROLES): each is checked for what it needs. */
  roles?: readonly string[];
  /** Kafka, when the bus is Kafka. */
  kafka?: { brokers: readonly string[] } | null;
  /** The bus's consumers of this process, running or stopped. */
  bus?: (() => BusHealth[]) | null;
  readModelStuckMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** Each check of this process's readiness; ready when every one is ok. */
export async function readinessChecks(sources: ReadinessSources): Promise<ReadinessCheck[]> {
  const timeoutMs = sources.timeoutMs ?? 1_000;
  const now = sources.now ?? Date.now;
  const checks: ReadinessCheck[] = [];
  try {
    await withTimeout(sources.pool.oneFirst(sql.unsafe`select 1`), timeoutMs, 'database');
    checks.push({ name: 'database', ok: true });
  } catch (error) {
    checks.push({ name: 'database', ok: false, reason: error instanceof Error ? error.message : String(error) });
  }
  const log = eventLogOf(sources.pool);
  if (log) {
    // The events are not in this database (KurrentDB): the event store is a dependency of its own.
    try {
      await withTimeout(log.head(), timeoutMs, 'event store');
      checks.push({ name: 'event-store', ok: true });
    } catch (error) {
      checks.push({ name: 'event-store', ok: false, reason: `the event store is not reachable: ${error instanceof Error ? error.message || error.name : String(error)}` });
    }
  }
  const stuck = await withTimeout(listStuckStreams(sources.pool, { limit: 1 }), timeoutMs, 'stuck streams').catch(() => null);
  const first = stuck?.[0];
  if (first) {
    // Shown, not failing: the damage is confined to those streams and the rest is served.
    const count = await countStuckStreams(sources.pool).catch(() => 1);
    checks.push({
      name: 'stuck-streams',
      ok: true,
      reason: `the read model is stuck on ${count} stream(s), first ${first.streamId} at event ${first.eventId} (position ${first.position})`,
      detail: { count, streamId: first.streamId, eventId: first.eventId, position: first.position },
    });
  }
  const roles = sources.roles ?? [];
  if (sources.kafka && roles.some((role) => BUS_ROLES.includes(role))) checks.push(await kafkaCheck(sources.kafka.brokers, timeoutMs));
  for (const consumer of sources.bus?.() ?? []) {
    if (consumer.stopped) checks.push({ name: `consumer ${consumer.group}`, ok: false, reason: consumer.stopped });
  }
  if (roles.includes('read-api')) checks.push(await readModelCheck(sources.pool, sources.readModelStuckMs ?? READ_MODEL_STUCK_MS, timeoutMs));
  const forwarder = sources.forwarder?.();
  if (forwarder?.gapWait) {
    const waitedMs = now() - forwarder.gapWait.since.getTime();
    const ok = waitedMs < GAP_WAIT_NOT_READY_MS;
    checks.push({
      name: 'forwarder-gap',
      ok,
      ...(ok ? {} : { reason: `waiting ${Math.round(waitedMs / 1000)} s on a hole after position ${forwarder.gapWait.after}: an append transaction is held open` }),
      detail: { after: forwarder.gapWait.after.toString(), waitingSeconds: Math.round(waitedMs / 100) / 10, appendsInFlight: forwarder.gapWait.holders },
    });
  }
  return checks;
}

/** The broker answers: an admin client of its own, one attempt, bounded. */
async function kafkaCheck(brokers: readonly string[], timeoutMs: number): Promise<ReadinessCheck> {
  const admin = reportAdmin(brokers, timeoutMs);
  try {
    await withTimeout(admin.connect().then(() => admin.describeCluster()), timeoutMs, 'kafka');
    return { name: 'kafka', ok: true };
  } catch (error) {
    return { name: 'kafka', ok: false, reason: `Kafka is not reachable: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await withTimeout(admin.disconnect(), timeoutMs, 'kafka disconnect').catch(() => {});
  }
}

/** The read model applies what is written: nothing older than `stuckMs` waits unapplied. */
async function readModelCheck(pool: DatabasePool, stuckMs: number, timeoutMs: number): Promise<ReadinessCheck> {
  try {
    const lag = await withTimeout(
      postgresReadModelCheckpoint(pool).then((checkpoint) => lagOf(pool, checkpoint)),
      timeoutMs,
      'read model',
    );
    const detail = { checkpoint: lag.checkpoint, head: lag.head, behindEvents: lag.events, oldestUnappliedSeconds: Math.round(lag.seconds * 10) / 10 };
    if (lag.events === 0 || lag.seconds * 1000 < stuckMs) return { name: 'read-model', ok: true, detail };
    return {
      name: 'read-model',
      ok: false,
      reason: `the read model is stuck at position ${lag.checkpoint}: ${lag.events} event(s) not applied, the oldest for ${Math.round(lag.seconds)} s`,
      detail,
    };
  } catch (error) {
    return { name: 'read-model', ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
