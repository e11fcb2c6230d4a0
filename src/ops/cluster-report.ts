import { lastVerify, lastVerifyView } from './verify/run.js';
import type { DatabasePool } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { lagOf } from '../projections/lag.js';
import type { MailQueueStatus } from '../projections/mailer/queue-status.js';
import type { ClusterStatus } from '../projections/status.js';
import { stuckStreamView } from '../shared/read-model/stuck-streams.js';
import type { EventStore } from '../shared/event-store/port.js';
import { appendsInFlight } from '../shared/event-store/postgres/append-marker.js';
import type { Redis } from '../shared/redis.js';
import { checkDependency, type DependencyView, dependencyView, verifySmtp } from './dependencies.js';
import { consumerLag, groupLagView, reportAdmin } from './kafka-lag.js';
import { listProcesses, processView } from './processes.js';
import { withTimeout } from './timeout.js';

const lagView = z.object({ checkpoint: z.string(), head: z.string(), events: z.int(), seconds: z.number() });

const subscriberView = z.object({
  name: z.string().describe('forwarder, projector-postgres, projector-redis, mailer'),
  checkpoint: z.string().describe('Every event up to this global position is processed'),
  lagEvents: z.int().describe('Events written after the checkpoint'),
  lagSeconds: z.number().describe('Age of the oldest of them; 0 when caught up'),
});

export const clusterReportView = z.object({
  forwarder: z.object({ checkpoint: z.string(), leaderHere: z.boolean().nullable(), lag: lagView }),
  projections: z.array(z.object({ name: z.string(), lag: lagView })),
  eventStoreHead: z.string().describe('The highest global position written'),
  subscribers: z.array(subscriberView).describe('Each subscriber of the event store beside its head'),
  stuckStreams: z
    .array(stuckStreamView)
    .describe('Streams the PostgreSQL projector stopped on at an event it cannot read, oldest 20; every other stream goes on'),
  mailerStuckStreams: z
    .array(stuckStreamView)
    .describe('Streams the mailer stopped on at an event it cannot read, oldest 20: their low-stock emails wait; every other stream goes on'),
  appendsHeldOpen: z
    .array(z.object({ pid: z.int().nullable(), state: z.string().nullable(), seconds: z.number() }))
    .describe('Append transactions open longer than a second, oldest first: a hole behind one holds every subscriber back until it ends'),
  processes: z.array(processView).describe('Every process that sent a heartbeat in the last day, oldest first'),
  dependencies: z.array(dependencyView).describe('Each configured dependency, checked now with a timeout each'),
  kafka: z
    .object({ topic: z.string(), groups: z.array(groupLagView), error: z.string().optional() })
    .nullable()
    .describe('Consumer lag per group and partition; null with the in-process bus'),
  mail: z
    .object({ pending: z.int(), failing: z.int(), oldestPendingAt: z.string().nullable(), sent: z.int() })
    .nullable()
    .describe('The low-stock mail queue'),
  lastVerify: lastVerifyView.describe('The last `npm run verify`: when, through which position, what it found, its root hash; null before the first'),
  generatedAt: z.iso.datetime(),
});
export type ClusterReport = z.infer<typeof clusterReportView>;

export interface ClusterReportSources {
  pool: DatabasePool;
  eventStore: EventStore;
  /** The forwarder's and projectors' checkpoints, as /metrics shows them. */
  status: () => Promise<ClusterStatus>;
  redis: Redis | null;
  kafka: { brokers: readonly string[]; topic: string; groups: readonly string[] } | null;
  smtpUrl: string | null;
  mailQueue: (pool: DatabasePool) => Promise<MailQueueStatus>;
  mailerCheckpoint: (pool: DatabasePool) => Promise<bigint | null>;
  /** Each dependency's check gives up after this long; 1000 ms by default. */
  timeoutMs?: number;
}

/** Everything the cluster report shows, gathered side by side so that its time is the slowest check's. */
export async function clusterReport(sources: ClusterReportSources): Promise<ClusterReport> {
  const timeoutMs = sources.timeoutMs ?? 1_000;
  const { pool } = sources;
  const admin = sources.kafka ? reportAdmin(sources.kafka.brokers, timeoutMs) : null;
  try {
    const checks: Promise<DependencyView>[] = [
      checkDependency('event store', () => sources.eventStore.headPosition(), timeoutMs),
      checkDependency('postgresql', () => pool.oneFirst(sql.unsafe`select 1`), timeoutMs),
    ];
    if (sources.redis) {
      const redis = sources.redis;
      checks.push(checkDependency('redis', () => redis.ping(), timeoutMs));
    }
    const kafkaUp = admin ? checkDependency('kafka', async () => admin.connect().then(() => admin.describeCluster()), timeoutMs) : null;
    if (kafkaUp) checks.push(kafkaUp);
    if (sources.smtpUrl) {
      const url = sources.smtpUrl;
      checks.push(checkDependency('smtp', () => verifySmtp(url), timeoutMs));
    }
    const [status, mailed, processes, dependencies, mail, kafka, appendsHeldOpen, verified] = await Promise.all([
      sources.status(),
      sources.mailerCheckpoint(pool).catch(() => null),
      listProcesses(pool),
      Promise.all(checks),
      sources.mailQueue(pool).catch(() => null),
      kafkaLag(sources.kafka, admin, kafkaUp, timeoutMs),
      appendsInFlight(pool).catch(() => []),
      lastVerify(pool).catch(() => null),
    ]);
    const subscribers = [
      { name: 'forwarder', lag: status.forwarder.lag },
      ...status.projections.map((projection) => ({ name: `projector-${projection.name}`, lag: projection.lag })),
      ...(mailed === null ? [] : [{ name: 'mailer', lag: await lagOf(pool, mailed) }]),
    ].map(({ name, lag }) => ({ name, checkpoint: lag.checkpoint, lagEvents: lag.events, lagSeconds: lag.seconds }));
    return {
      ...status,
      eventStoreHead: status.forwarder.lag.head,
      subscribers,
      appendsHeldOpen,
      processes,
      dependencies,
      kafka,
      mail,
      lastVerify: verified,
      generatedAt: new Date().toISOString(),
    };
  } finally {
    if (admin) await withTimeout(admin.disconnect(), timeoutMs, 'kafka disconnect').catch(() => {});
  }
}

async function kafkaLag(
  kafka: ClusterReportSources['kafka'],
  admin: ReturnType<typeof reportAdmin> | null,
  kafkaUp: Promise<DependencyView> | null,
  timeoutMs: number,
): Promise<ClusterReport['kafka']> {
  if (!kafka || !admin || !kafkaUp) return null;
  const up = await kafkaUp;
  if (!up.healthy) return { topic: kafka.topic, groups: [], error: up.error ?? 'Kafka is not reachable' };
  try {
    // One request per group: a few times one check's budget.
    return { topic: kafka.topic, groups: await withTimeout(consumerLag(admin, kafka.topic, kafka.groups), 3 * timeoutMs, 'kafka consumer lag') };
  } catch (error) {
    return { topic: kafka.topic, groups: [], error: error instanceof Error ? error.message : String(error) };
  }
}
