import type { RedisReadModel } from '../shared/hot-model/redis-read-model.js';
import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod/v4';
import type pg from 'pg';
import type { DatabasePool } from '../shared/db/pool.js';
import type { CursorCodec } from './cursor.js';
import { problemSchema } from '../shared/http/contract.js';
import { queryInteger } from '../shared/http/query-integer.js';
import type { TrigramSamples } from './trigram-samples.js';

/** What every route module of the read API is given. */
export interface ReadContext {
  pool: DatabasePool;
  /** A plain `pg` pool for the store page, the hot list (list.ts plainRows); null: slonik's pool answers it. */
  plain: pg.Pool | null;
  cursors: CursorCodec;
  /** Redis, for point reads; undefined answers mean "ask PostgreSQL". */
  hot: RedisReadModel | null;
  /** A table of the read model, schema-qualified. */
  table(name: string): FragmentSqlToken;
  /** The read model's schema (to ask whether a table exists: a model made by another release may lack one). */
  schema: string;
  /** What ANALYZE sampled of the trigram indexes, for `q` (list.ts indexedTextSearch). */
  trigramSamples: TrigramSamples;
}

export const tableIn =
  (schema: string) =>
  (name: string): FragmentSqlToken =>
    sql.fragment`${sql.identifier([schema, name])}`;

export const readErrors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 503: problemSchema };

/** The list grammar every list shares; each list adds its filters and documents its sort fields. */
export const listQuery = (sortable: readonly string[], defaultSort: string) => ({
  q: z.string().max(200).optional().describe('Case-insensitive substring of the text fields'),
  sort: z
    .string()
    .max(200)
    .optional()
    .describe(`Comma-separated fields, "-" for descending; the id always breaks ties. Sortable: ${sortable.join(', ')}. Default: ${defaultSort}.`),
  limit: queryInteger(z.int().min(1).max(200)).default(50).describe('Page size, 1 to 200'),
  cursor: z.string().max(4096).optional().describe('The `next` of the previous page, with the same sort and filters'),
});

export const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
export const quantityFilter = queryInteger(z.int().min(0).max(Number.MAX_SAFE_INTEGER));

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable().describe('Cursor of the next page; null on the last one') });

/** Filters for the cursor: everything in the query but the paging itself. */
export const filtersOf = <Q extends { limit: number; cursor?: string | undefined; sort?: string | undefined }>(query: Q) => {
  const { limit: _limit, cursor: _cursor, sort: _sort, ...filters } = query;
  return filters;
};

/** For routes that take no query parameters: any given is refused by name. */
export const noQuery = z.strictObject({});

/** int8 columns arrive as bigint; the API's counts and revisions are JSON numbers. */
export const int8 = z.bigint().transform((value) => Number(value));

/**
 * A NUMERIC(16,4) price as text ("4.5000") to the decimal string the API speaks: trailing
 * zeros beyond two decimals dropped ("4.50", "4.125", "4.00"). A value kept at a smaller
 * scale (an unconstrained NUMERIC keeps the writer's "4.5") is left as it is.
 */
export function priceText(value: string | null): string | null {
  if (value === null) return null;
  const [whole, fraction] = value.split('.');
  if (fraction === undefined || fraction.length <= 2) return value;
  const trimmed = fraction.replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${trimmed}`;
}

export const etag = (revision: number): string => `"${revision}"`;
