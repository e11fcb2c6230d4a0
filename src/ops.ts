import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DatabasePool } from 'slonik';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { ForwarderStatus } from './projections/forwarder.js';
import { type ClusterStatus, clusterStatus, metricsText } from './projections/status.js';
import { principalOf } from './shared/auth/plugin.js';
import { requireRole } from './shared/auth/principal.js';

export interface OpsOptions {
  pool: DatabasePool;
  forwarder: (() => ForwarderStatus) | null;
  redisCheckpoint?: () => Promise<bigint | null | undefined>;
}

const lagSchema = z.object({ checkpoint: z.string(), head: z.string(), events: z.int(), seconds: z.number() });

/**
 * Operations: liveness, readiness, Prometheus metrics, and the cluster report. They sit
 * in the composition root because they look at every part at once.
 */
export const opsRoutes: FastifyPluginAsyncZod<OpsOptions> = async (app, options) => {
  const status = (): Promise<ClusterStatus> =>
    clusterStatus(options.pool, { forwarder: options.forwarder, ...(options.redisCheckpoint ? { redisCheckpoint: options.redisCheckpoint } : {}) });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.pool.oneFirst(sql.unsafe`select 1`);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database' });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const memory = process.memoryUsage();
    return reply
      .type('text/plain; version=0.0.4')
      .send(metricsText(await status(), { process_resident_memory_bytes: memory.rss, process_uptime_seconds: process.uptime() }));
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', scope.authenticate);
    scope.get(
      '/api/reports/cluster',
      {
        schema: {
          tags: ['reports'],
          summary: 'Cluster status: the forwarder and each projector, their checkpoints and lag (manager)',
          response: {
            200: z.object({
              forwarder: z.object({ checkpoint: z.string(), leaderHere: z.boolean().nullable(), lag: lagSchema }),
              projections: z.array(z.object({ name: z.string(), lag: lagSchema })),
            }),
          },
        },
      },
      async (request) => {
        requireRole(principalOf(request), 'manager');
        return status();
      },
    );
  });
};
