import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type FieldError, ValidationFailed } from '../errors.js';

/**
 * A string no part of Stockroom can keep: a NUL (PostgreSQL text refuses it, so it surfaced
 * as a 500) or a lone UTF-16 surrogate (not Unicode: it cannot be stored or sent back as
 * UTF-8 unchanged). Refused with a 400 naming the field, before any route sees the request.
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const reasonFor = (text: string): string | null => {
  if (text.includes('\u0000')) return 'must not contain a NUL character';
  if (loneSurrogate.test(text)) return 'must not contain a lone surrogate (not valid Unicode)';
  return null;
};

/** Every bad string in a parsed value (names as well as values), as field errors named like validation errors. */
export function unsafeText(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string') {
    const reason = reasonFor(value);
    return reason ? [{ field, reason }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => unsafeText(item, `${field}.${index}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => {
      const name = field === 'body' ? key : `${field}.${key}`;
      const keyReason = reasonFor(key);
      return keyReason ? [{ field: name, reason: `(its name) ${keyReason}` }] : unsafeText(item, name);
    });
  }
  return [];
}

/**
 * Whether a parsed value holds no bad string, without building anything: the answer for
 * nearly every request, which then costs no arrays and no field names (unsafeText builds them).
 */
function clean(value: unknown): boolean {
  if (typeof value === 'string') return reasonFor(value) === null;
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!clean(item)) return false;
    return true;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (reasonFor(key) !== null || !clean((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function check(request: FastifyRequest): void {
  if (clean(request.params) && clean(request.query) && clean(request.body)) return;
  const errors = [...unsafeText(request.params, 'params'), ...unsafeText(request.query, 'query'), ...unsafeText(request.body, 'body')];
  if (errors.length > 0) throw new ValidationFailed(errors, errors.map((error) => `${error.field}: ${error.reason}`).join('; '));
}

/** For every route of the server: one place, so no route can forget it. */
export function refuseUnsafeText(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every request and has nothing to await.
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      check(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
