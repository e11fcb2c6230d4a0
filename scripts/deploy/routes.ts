import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { type OpsOptions, opsRoutes } from '../../src/ops.js';
import { metricsPlugin } from '../../src/ops/metrics.js';
import { liveApi } from '../../src/read/ws/plugin.js';
import type { StockChangeFeed } from '../../src/shared/live/stock-changes.js';
import type { ServedRoutes } from './against-code.js';

/**
 * The GET routes the deployment files name, read from the plugins that register them:
 * src/ops.ts (every process, whatever its roles: src/app.ts registers it first) and
 * src/read/ws (a read API with its notifier). Registered on a bare server that never
 * listens or answers, so nothing they would call at request time is needed: the pool, the
 * feed and the authentication below are never used, and throw if they were.
 */
export async function servedRoutes(): Promise<ServedRoutes> {
  const unused = (what: string) => () => {
    throw new Error(`${what} is not used while listing routes`);
  };
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('authenticate', async () => unused('authentication')());
  app.decorate('verifyToken', async () => unused('token verification')());
  app.decorate('authenticateHook', () => unused('authentication')());
  // Stands in for the pool, the event store and the feed: any use of it throws.
  const neverUsed = <T extends object>(what: string): T => new Proxy({} as T, { get: (_, key) => unused(`${what}.${String(key)}`) });
  // As src/app.ts: the metrics registry first, which the ops routes fill.
  await app.register(metricsPlugin);
  await app.register(opsRoutes, {
    pool: neverUsed<OpsOptions['pool']>('pool'),
    forwarder: null,
    cluster: { eventStore: neverUsed<OpsOptions['cluster']['eventStore']>('eventStore'), redis: null, kafka: null, smtpUrl: null },
  });
  await app.register(liveApi, { feed: neverUsed<StockChangeFeed>('feed') });
  await app.ready();
  const has = (url: string) => app.hasRoute({ method: 'GET', url });
  const candidates = ['/healthz', '/readyz', '/metrics', '/ws'];
  const routes: ServedRoutes = {
    everyProcess: new Set(candidates.filter((url) => url !== '/ws' && has(url))),
    readApi: new Set(candidates.filter(has)),
  };
  await app.close();
  return routes;
}
