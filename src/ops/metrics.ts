import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics; /metrics shows them beside the process's own. */
    metrics: Registry;
  }
}

let processRegistry: Registry | undefined;

/**
 * The process's own metrics (prom-client's defaults: CPU, memory, event loop lag, GC, file
 * descriptors; and process_uptime_seconds), collected once per process: they describe the
 * process, not an app, and the tests build many apps in one.
 */
function processMetrics(): Registry {
  if (processRegistry) return processRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'process_uptime_seconds',
    help: 'Seconds since the process started.',
    registers: [registry],
    collect() {
      this.set(process.uptime());
    },
  });
  processRegistry = registry;
  return registry;
}

const commandMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** From 5 ms (a cached command) to 10 s (past every deadline the API sets). */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latencyLabels = ['method', 'route', 'status_code'] as const;

/**
 * Latency of the API as clients see it, from the request's arrival to the last byte sent:
 * commands (POST, PUT, PATCH, DELETE under /api) and queries (GET under /api), by route
 * template (never the raw path: ids would make a series each), method and status.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    const commands = new Histogram({
      name: 'stockroom_command_duration_seconds',
      help: 'Time to answer a command (POST, PUT, PATCH, DELETE under /api), by route, method and status.',
      labelNames: latencyLabels,
      buckets: latencyBuckets,
      registers: [registry],
    });
    const queries = new Histogram({
      name: 'stockroom_query_duration_seconds',
      help: 'Time to answer a query (GET under /api), by route, method and status.',
      labelNames: latencyLabels,
      buckets: latencyBuckets,
      registers: [registry],
    });
    app.decorate('metrics', registry);
    // One child per series, kept: observe(labels, value) hashes the labels on every call.
    // Found by method, route and status in nested maps: no key string, no label object per answer.
    type Child = Histogram.Internal<(typeof latencyLabels)[number]>;
    const series = new Map<string, Map<string, Map<number, Child>>>();
    const seriesOf = (histogram: Histogram<(typeof latencyLabels)[number]>, method: string, route: string, status: number): Child => {
      let routes = series.get(method);
      if (!routes) series.set(method, (routes = new Map()));
      let statuses = routes.get(route);
      if (!statuses) routes.set(route, (statuses = new Map()));
      let child = statuses.get(status);
      if (!child) statuses.set(status, (child = histogram.labels({ method, route, status_code: String(status) })));
      return child;
    };
    // Unmatched paths (404s) are left out, and so are websockets: their "answer" is the upgrade.
    // A hook of each /api route, knowing its template: nothing to look up per answer (the
    // route's options, request.routeOptions, are an object built on every read).
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/') || route.websocket) return;
      const template = route.url;
      // A callback hook, not an async one: it runs on every answer and has nothing to await.
      const observe: onResponseHookHandler = (request, reply, done) => {
        const seconds = reply.elapsedTime / 1_000;
        if (commandMethods.has(request.method)) seriesOf(commands, request.method, template, reply.statusCode).observe(seconds);
        else if (request.method === 'GET') seriesOf(queries, request.method, template, reply.statusCode).observe(seconds);
        done();
      };
      route.onResponse = [...(Array.isArray(route.onResponse) ? route.onResponse : route.onResponse ? [route.onResponse] : []), observe];
    });
  },
  { name: 'stockroom-metrics' },
);

/** The Prometheus text of this app's metrics and the process's. */
export async function metricsText(app: FastifyInstance): Promise<{ contentType: string; text: string }> {
  const merged = Registry.merge([processMetrics(), app.metrics]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}
