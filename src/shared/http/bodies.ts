import type { FastifyInstance } from 'fastify';
import { ValidationFailed } from '../errors.js';

/**
 * Bodies only where a route declares one, and only as JSON. fastify parses text/plain by
 * default, so a DELETE with a text body was accepted (and deleted); without that parser
 * any type but JSON is a 415, and a JSON body sent to a route that takes none is a 400.
 */
export function refuseUnexpectedBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addHook('preValidation', (request, _reply, done) => {
    if (!request.is404 && request.body !== undefined && request.body !== null && !request.routeOptions.schema?.body) {
      done(new ValidationFailed([{ field: 'body', reason: 'must be empty: this request takes no body' }], 'This request takes no body.'));
      return;
    }
    done();
  });
}
