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
import { type ClusterStatus, clusterStatus } from './projections/status.js';
import { metricsText } from './ops/metrics.js';
import { clusterStatusGauges, operationsGauges } from './ops/status-gauges.js';
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

  const showStatus = clusterStatusGauges(app.metrics);
  const showOperations = operationsGauges(app.metrics);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    showStatus(await status());
    showOperations({ mail: await mailQueueStatus(options.pool), forwarder: options.forwarder?.() ?? null });
    const { contentType, text } = await metricsText(app);
    return reply.type(contentType).send(text);
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', scope.authenticateHook);
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
