import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';

/**
 * The CSP of /docs (set by @fastify/swagger-ui on its own routes, over the API's): the
 * swagger UI loads its scripts, styles and the document from this server and nothing
 * else; it has no inline script. Its components set inline styles, hence the one
 * concession in style-src. No one may frame it.
 */
export const DOCS_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** helmet's options for the API's answers (/docs and /console set their own CSP over it). */
const API_HELMET = {
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
} as const;

/** What fastify itself puts on an answer: not helmet's. */
const NOT_HELMET = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * The headers helmet sets with API_HELMET, read once from a throwaway server: they are the
 * same on every answer, while @fastify/helmet rebuilt its middleware and set them one by one
 * on every request (two hooks, a fifth of a point read's CPU beside the route's own work).
 */
export async function helmetHeaders(): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, API_HELMET);
  probe.get('/', async () => ({}));
  const answer = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (!NOT_HELMET.has(name) && typeof value === 'string') headers[name] = value;
  }
  if (!headers['content-security-policy'] || !headers['x-content-type-options']) throw new Error('helmet set no headers on the probe');
  return headers;
}

/**
 * Security headers on every answer (helmet's): no sniffing, no framing, no referrer, and a
 * CSP that lets an API answer load nothing (it is JSON; /docs sets its own, DOCS_CSP).
 * Every /api answer is computed for one principal or carries a token (login), so none may
 * be stored by a browser or a shared cache.
 */
export async function securityHeaders(app: FastifyInstance): Promise<void> {
  const headers = await helmetHeaders();
  // Callback hooks: an async one costs a promise and a turn of the microtask queue per request.
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/')) void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
