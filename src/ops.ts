import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DatabasePool } from 'slonik';
import { clusterReport, type ClusterReportSources, clusterReportView } from './ops/cluster-report.js';
import { readinessChecks } from './ops/readiness.js';
import type { ForwarderStatus } from './projections/forwarder.js';
import type { BusHealth } from './shared/event-bus/kafka.js';
import { MAILER_GROUP, mailerCheckpoint } from './projections/mailer/run.js';
import { POSTGRES_PROJECTOR_GROUP } from './projections/postgres/run.js';
import { REDIS_PROJECTOR_GROUP } from './projections/redis/run.js';
import { mailQueueStatus } from './projections/mailer/queue-status.js';
import { type ClusterStatus, clusterStatus, metricsText } from './projections/status.js';
import { principalOf } from './shared/auth/plugin.js';
import { requireRole } from './shared/auth/principal.js';

export interface OpsOptions {
  pool: DatabasePool;
  forwarder: (() => ForwarderStatus) | null;
  /** This process's roles, for /readyz. */
  roles?: readonly string[];
  /** The bus's consumers in this process, for /readyz. */
  bus?: (() => BusHealth[]) | null;
  redisCheckpoint?: () => Promise<bigint | null | undefined>;
  /** What the cluster report checks beyond the checkpoints. */
  cluster: Pick<ClusterReportSources, 'eventStore' | 'redis' | 'smtpUrl' | 'timeoutMs'> & {
    kafka: { brokers: readonly string[]; topic: string } | null;
  };
}

/** The consumer groups the report always shows on Kafka, even before their first commit. */
const KNOWN_GROUPS = [POSTGRES_PROJECTOR_GROUP, REDIS_PROJECTOR_GROUP, MAILER_GROUP];

/**
 * Operations: liveness, readiness, Prometheus metrics, and the cluster report. They sit
 * in the composition root because they look at every part at once.
 */
export const opsRoutes: FastifyPluginAsyncZod<OpsOptions> = async (app, options) => {
  const status = (): Promise<ClusterStatus> =>
    clusterStatus(options.pool, { forwarder: options.forwarder, ...(options.redisCheckpoint ? { redisCheckpoint: options.redisCheckpoint } : {}) });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks = await readinessChecks({
      pool: options.pool,
      forwarder: options.forwarder,
      roles: options.roles ?? [],
      kafka: options.cluster.kafka,
      bus: options.bus ?? null,
      ...(options.cluster.timeoutMs ? { timeoutMs: options.cluster.timeoutMs } : {}),
    });
    const failed = checks.filter((check) => !check.ok);
    if (failed.length === 0) return { status: 'ready', checks };
    return reply.code(503).send({ status: 'unavailable', reason: failed.map((check) => check.name).join(', '), checks });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const memory = process.memoryUsage();
    const mail = await mailQueueStatus(options.pool);
    const forwarder = options.forwarder?.();
    const secondsSince = (time: number) => Math.max(0, Math.round((Date.now() - time) / 100) / 10);
    return reply.type('text/plain; version=0.0.4').send(
      metricsText(await status(), {
        process_resident_memory_bytes: memory.rss,
        process_uptime_seconds: process.uptime(),
        // The mail queue is the cluster's (the outbox in PostgreSQL): the same from every process.
        stockroom_mail_queue_pending: { value: mail.pending, help: 'Mails formed and not sent yet.' },
        stockroom_mail_queue_failing: { value: mail.failing, help: 'Of those, mails that failed at least once (SMTP down or refusing).' },
        stockroom_mail_queue_oldest_seconds: {
          value: mail.oldestPendingAt === null ? 0 : secondsSince(Date.parse(mail.oldestPendingAt)),
          help: 'Age of the oldest mail not sent yet; 0 when none waits.',
        },
        // Only a process running the forwarder knows these.
        ...(forwarder
          ? {
              stockroom_forwarder_leader: { value: forwarder.leader ? 1 : 0, help: 'Whether this process holds the forwarder lead.' },
              stockroom_forwarder_gap_wait_seconds: {
                value: forwarder.gapWait ? secondsSince(forwarder.gapWait.since.getTime()) : 0,
                help: 'How long the forwarder has waited on a hole held by an open append transaction; 0 when it waits on none.',
              },
            }
          : {}),
      }),
    );
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', scope.authenticate);
    scope.get(
      '/api/reports/cluster',
      {
        schema: {
          tags: ['reports'],
          summary: 'Cluster status: processes, dependencies, subscribers and their lag, Kafka consumer lag, the mail queue (manager)',
          response: { 200: clusterReportView },
        },
      },
      async (request) => {
        requireRole(principalOf(request), 'manager');
        const { kafka, ...sources } = options.cluster;
        return clusterReport({
          ...sources,
          pool: options.pool,
          status,
          mailQueue: mailQueueStatus,
          mailerCheckpoint,
          kafka: kafka && { ...kafka, groups: KNOWN_GROUPS },
        });
      },
    );
  });
};
