import type { FastifyInstance } from 'fastify';
import { onlyJsonBodies, unexpectedBodyError } from './bodies.js';
import { unsafeTextError } from './unsafe-text.js';

/**
 * The checks every request passes before its route's validation, in one preValidation
 * hook (each hook is a step of fastify's hook runner on every request): no string Stockroom
 * cannot keep (unsafe-text.ts), no body where the route takes none (bodies.ts). One place,
 * so no route can forget them.
 */
export function checkEveryRequest(app: FastifyInstance): void {
  onlyJsonBodies(app);
  // A callback hook, not an async one: it runs on every request and has nothing to await.
  app.addHook('preValidation', (request, _reply, done) => {
    const refused = unsafeTextError(request) ?? unexpectedBodyError(request);
    if (refused) done(refused);
    else done();
  });
}
