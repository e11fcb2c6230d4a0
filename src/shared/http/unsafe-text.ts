import type { FastifyRequest } from 'fastify';
import { type FieldError, ValidationFailed } from '../errors.js';

/**
 * A string no part of Stockroom can keep: a NUL (PostgreSQL text refuses it, so it surfaced
 * as a 500) or a lone UTF-16 surrogate (not Unicode: it cannot be stored or sent back as
 * UTF-8 unchanged). Refused with a 400 naming the field, before any route sees the request.
 */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Either of them may be in the text: one scan of a plain class, which clears nearly every string at once. */
const suspect = /[\u0000\uD800-\uDFFF]/;

const reasonFor = (text: string): string | null => {
  if (!suspect.test(text)) return null;
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

/**
 * Whether the path parameters and the query are clean because the URL is: without a `%`
 * they are pieces of it as it came (the router and the query parser decode nothing else but
 * `+`), so one scan of the URL answers for all of them, and walking their objects is left to
 * the URLs that need it.
 */
const cleanUrl = (url: string): boolean => !url.includes('%') && !suspect.test(url);

/** The 400 for a request holding a bad string in its params, query or body; null for nearly every request. */
export function unsafeTextError(request: FastifyRequest): ValidationFailed | null {
  if ((cleanUrl(request.url) || (clean(request.params) && clean(request.query))) && clean(request.body)) return null;
  const errors = [...unsafeText(request.params, 'params'), ...unsafeText(request.query, 'query'), ...unsafeText(request.body, 'body')];
  return errors.length > 0 ? new ValidationFailed(errors, errors.map((error) => `${error.field}: ${error.reason}`).join('; ')) : null;
}
