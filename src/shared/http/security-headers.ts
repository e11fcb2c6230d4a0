import helmet from '@fastify/helmet';
import Fastify from 'fastify';

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

/** helmet's options for the API: no sniffing, no framing, no referrer, a CSP that lets a JSON answer load nothing. */
const HELMET_OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
};

/** What fastify itself puts on an answer: not helmet's. */
const ownHeaders = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

/**
 * The headers helmet sets with these options, asked of helmet once: @fastify/helmet builds
 * helmet's whole middleware again on every request (about 2 % of a command's CPU in a
 * profile), for headers that never change. One answer of a throwaway server carries them.
 */
async function helmetHeaders(): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  try {
    await probe.register(helmet, HELMET_OPTIONS);
    probe.get('/', async () => '');
    const response = await probe.inject({ method: 'GET', url: '/' });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (!ownHeaders.has(name) && value !== undefined) headers[name] = String(value);
    }
    if (!headers['content-security-policy']) throw new Error('helmet set no Content-Security-Policy on the probe answer');
    return headers;
  } finally {
    await probe.close();
  }
}

/**
 * Security headers on every answer (helmet's, computed once): no sniffing, no framing, no
 * referrer, and a CSP that lets an API answer load nothing (it is JSON; /docs sets its own,
 * DOCS_CSP, when it answers, over this one). Every /api answer is computed for one principal
 * or carries a token (login), so none may be stored by a browser or a shared cache. The
 * answer is the headers for a request's URL, the same object every time: the caller sets them
 * when the request arrives (app.ts, in the one onRequest hook every request runs), so that
 * every answer carries them, errors included; a route that sets one of them itself later wins.
 */
export async function securityHeaders(): Promise<(url: string) => Readonly<Record<string, string>>> {
  const headers = await helmetHeaders();
  const apiHeaders = { ...headers, 'cache-control': 'no-store' };
  return (url) => (url.startsWith('/api/') ? apiHeaders : headers);
}
