import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationFailed } from '../errors.js';

/**
 * Bodies only where a route declares one, and only as JSON. fastify parses text/plain by
 * default, so a DELETE with a text body was accepted (and deleted); without that parser
 * any type but JSON is a 415, and a JSON body sent to a route that takes none is a 400
 * (unexpectedBodyError, checked for every request by request-checks.ts).
 */
export function onlyJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
}

/** The 400 for a body sent to a route that takes none; null otherwise (every GET: no body). */
export function unexpectedBodyError(request: FastifyRequest): ValidationFailed | null {
  // The body first: request.routeOptions builds an object on every call.
  if (request.body === undefined || request.body === null || request.is404 || request.routeOptions.schema?.body) return null;
  return new ValidationFailed([{ field: 'body', reason: 'must be empty: this request takes no body' }], 'This request takes no body.');
}
