import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';

/**
 * The zod validator compiler with a fast path for the simplest shapes, which are most of a
 * point read's: an object of strings whose only checks are patterns (a uuid, a regex),
 * optional or not (path parameters, `X-Min-Position`), and of optional fields left out
 * whatever their schema (an empty query). For those, a value
 * zod would take as it is is recognised by a few regex tests and passed on without zod's
 * parse (which copies the object and builds a context per field); anything else (a value
 * that fails, a key zod would strip, any other schema) goes to zod, so errors and every
 * other parse are zod's own, unchanged.
 */

type Check = (value: unknown) => boolean;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The `_zod.def` and `_zod.bag` of a schema, as plain records (zod's internals, read, never written). */
const internals = (schema: unknown): { def: Record<string, unknown>; bag: Record<string, unknown> } | null => {
  if (!(schema instanceof z.ZodType)) return null;
  const inner: unknown = (schema as unknown as { _zod: unknown })._zod;
  if (!isRecord(inner) || !isRecord(inner.def) || !isRecord(inner.bag)) return null;
  return { def: inner.def, bag: inner.bag };
};

/** A check equal to zod's for a string schema whose only constraints are patterns; null for any other. */
function stringCheck(schema: unknown): Check | null {
  const parts = internals(schema);
  if (!parts || parts.def.type !== 'string' || parts.def.coerce === true) return null;
  // Anything in the bag but patterns (lengths, a content type...) is left to zod.
  if (Object.keys(parts.bag).some((key) => key !== 'format' && key !== 'patterns')) return null;
  const checks: unknown[] = Array.isArray(parts.def.checks) ? parts.def.checks : [];
  for (const check of checks) {
    const checkDef = internals(check)?.def ?? (isRecord(check) && isRecord(check._zod) && isRecord(check._zod.def) ? check._zod.def : null);
    if (!checkDef || checkDef.check !== 'string_format' || !(checkDef.pattern instanceof RegExp)) return null;
  }
  if (parts.def.check !== undefined && (parts.def.check !== 'string_format' || !(parts.def.pattern instanceof RegExp))) return null;
  const patterns = parts.bag.patterns instanceof Set ? [...(parts.bag.patterns as Set<unknown>)] : [];
  if (!patterns.every((pattern): pattern is RegExp => pattern instanceof RegExp && !pattern.global && !pattern.sticky)) return null;
  if (parts.def.pattern instanceof RegExp && !patterns.includes(parts.def.pattern)) return null;
  return (value) => {
    if (typeof value !== 'string') return false;
    for (const pattern of patterns) if (!pattern.test(value)) return false;
    return true;
  };
}

/** Whether zod runs this schema on an absent value too (a default, a nested optional): then absent is not left as it is. */
const runsOnAbsent = (schema: unknown): boolean => {
  const inner: unknown = schema instanceof z.ZodType ? (schema as unknown as { _zod: unknown })._zod : null;
  return !isRecord(inner) || inner.optin === 'optional';
};

function fieldCheck(schema: unknown): Check | null {
  const parts = internals(schema);
  if (parts?.def.type === 'optional') {
    const inner = stringCheck(parts.def.innerType);
    if (inner) return (value) => value === undefined || inner(value);
    // Any other optional field (the point read's `asOf`, a refined string): absent, zod
    // leaves it absent; given, zod checks it.
    return runsOnAbsent(parts.def.innerType) ? null : (value) => value === undefined;
  }
  return stringCheck(schema);
}

/** A check that the object is one zod would take unchanged (no key to strip); null for any other schema. */
export function fastObjectCheck(schema: unknown): Check | null {
  const parts = internals(schema);
  if (!parts || parts.def.type !== 'object' || !isRecord(parts.def.shape)) return null;
  // A refinement of the whole object (exactly one of several fields...) is zod's to run.
  if (Array.isArray(parts.def.checks) && parts.def.checks.length > 0) return null;
  const catchall = parts.def.catchall === undefined ? 'strip' : internals(parts.def.catchall)?.def.type;
  if (catchall !== 'strip' && catchall !== 'never' && catchall !== 'unknown') return null;
  const fields: [string, Check][] = [];
  for (const [key, field] of Object.entries(parts.def.shape)) {
    const check = fieldCheck(field);
    if (!check) return null;
    fields.push([key, check]);
  }
  const known = new Set(fields.map(([key]) => key));
  const loose = catchall === 'unknown';
  return (value) => {
    if (!isRecord(value)) return false;
    for (const [key, check] of fields) if (!check(value[key])) return false;
    // An unknown key: stripped (a copy to make) or refused (strict); zod does either.
    if (!loose) for (const key in value) if (!known.has(key)) return false;
    return true;
  };
}

export const fastValidatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const slow = validatorCompiler(route);
  const fast = fastObjectCheck(route.schema);
  if (!fast) return slow;
  return (data) => (fast(data) ? { value: data } : slow(data));
};
