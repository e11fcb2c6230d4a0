import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/**
 * The console's own policy, stricter than a page usually gets: scripts, styles and
 * connections (fetch and /ws) from this server only, no inline script or style, no
 * framing. Set in onSend of this scope, so it is the last word over the app-wide
 * headers (helmet's `default-src 'none'` would let the page load nothing).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The folder of a library's files in node_modules (its main file sits in it). */
const distOf = (library: string): string => path.dirname(require.resolve(library));

/** Only the library files the console imports are served, by name: nothing else in node_modules. */
const VENDOR = [
  { prefix: '/console/vendor/preact/', root: distOf('preact'), files: ['preact.mjs'] },
  { prefix: '/console/vendor/htm/', root: distOf('htm'), files: ['htm.mjs'] },
  { prefix: '/console/vendor/uplot/', root: distOf('uplot'), files: ['uPlot.esm.js', 'uPlot.min.css'] },
] as const;

/**
 * The web console at /console: static files of this folder's `public/` and the few library
 * files it imports, as ES modules with no build step. The page holds no data of its own: it
 * calls the API with the user's token, so the API's checks are the console's checks.
 */
export const consolePlugin: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-security-policy', CONSOLE_CSP);
    return payload;
  });
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 301));
  await app.register(fastifyStatic, {
    root: path.join(here, 'public'),
    prefix: '/console/',
    decorateReply: false,
    schemaHide: true,
  });
  for (const library of VENDOR) {
    const allowed = new Set<string>(library.files);
    await app.register(fastifyStatic, {
      root: library.root,
      prefix: library.prefix,
      decorateReply: false,
      schemaHide: true,
      allowedPath: (pathName) => allowed.has(pathName.replace(/^\//, '')),
    });
  }
};
