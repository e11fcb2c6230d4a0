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

/** helmet's options: no sniffing, no framing, no referrer (on the documents: /docs, the console), a CSP that lets a JSON answer load nothing. */
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
 * The headers an answer under /api carries, of helmet's: the set the OWASP REST Security
 * Cheat Sheet ("Security Headers") asks of every API answer, Content-Type and Cache-Control
 * aside (fastify sets the one, securityHeaders the other). The rest of helmet's set governs
 * what a document does (its referrer, its browsing-context group, its DNS prefetching, IE8's
 * download prompt, Flash's and the old XSS auditor's policies) or guards a cross-origin
 * embedding that could carry the user's credentials: an /api answer is JSON or a file that
 * loads nothing (its CSP is `default-src 'none'`), and its credentials are a bearer token,
 * which no cross-origin embedding sends. They were 8 of the 13 lines and 260 of the 470
 * bytes of security headers on every answer, which every client parses (docs/decisions.md,
 * "Security headers of an API answer: the OWASP set").
 */
const API_HEADER_NAMES = ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options'] as const;

/**
 * Security headers on every answer (helmet's, computed once): no sniffing, no framing, and a
 * CSP that lets an API answer load nothing (it is JSON; /docs sets its own, DOCS_CSP, when it
 * answers, over this one). An answer outside /api (the docs, the console, health) carries
 * helmet's whole set; one under /api the OWASP set above. Every /api answer is computed for one
 * principal or carries a token (login), so none may be stored by a browser or a shared cache.
 * The answer is the headers for a request's URL, the same object every time: the caller sets
 * them when the request arrives (app.ts, in the one onRequest hook every request runs), so that
 * every answer carries them, errors included; a route that sets one of them itself later wins.
 */
export async function securityHeaders(): Promise<(url: string) => Readonly<Record<string, string>>> {
  const headers = await helmetHeaders();
  const apiHeaders: Record<string, string> = {};
  for (const name of API_HEADER_NAMES) {
    const value = headers[name];
    if (value === undefined) throw new Error(`helmet set no ${name} on the probe answer`);
    apiHeaders[name] = value;
  }
  apiHeaders['cache-control'] = 'no-store';
  return (url) => (url.startsWith('/api/') ? apiHeaders : headers);
}
