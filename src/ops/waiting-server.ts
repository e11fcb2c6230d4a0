import { createServer } from 'node:http';
import type { ReadinessCheck } from './readiness.js';

/**
 * While the process waits at start for a dependency (KurrentDB that is not up yet), it
 * answers on its own port what the orchestrator asks: alive (/healthz 200), not ready
 * (/readyz 503 naming the wait). Closed before the real server listens on the same port.
 */
export async function serveWhileWaiting(host: string, port: number, waiting: () => ReadinessCheck): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (path === '/healthz') return send(200, { status: 'ok' });
    const check = waiting();
    if (path === '/readyz') return send(503, { status: 'unavailable', reason: check.name, checks: [check] });
    response.setHeader('retry-after', '5');
    return send(503, { type: 'about:blank', title: 'Starting', status: 503, detail: check.reason ?? 'starting' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
