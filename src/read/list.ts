import type pg from 'pg';
import { type FragmentSqlToken, type QuerySqlToken, sql } from 'slonik';
import type { DatabasePool } from '../shared/db/pool.js';
import { ValidationFailed } from '../shared/errors.js';
import { type CursorCodec, type CursorPosition, cursorContext } from './cursor.js';
import { uncommonWords } from './search-words.js';
import type { TrigramSamples } from './trigram-samples.js';

/** The SQL type a sort value is compared as (it travels in the cursor as text). */
export type SortType = 'text' | 'numeric' | 'bigint' | 'integer';

export interface SortField {
  /** The expression rows are ordered by: the same one the index holds (e.g. `lower(name)`). */
  expr: FragmentSqlToken;
  type: SortType;
  /** Nullable columns order NULLs last ascending and first descending (PostgreSQL's own default). */
  nullable?: boolean;
  /**
   * The id column to pair with this field when it sorts first, where a join offers the same
   * id from two tables: the one in this field's index (e.g. `stock_summary.sku_id` beside
   * `total_quantity`), so that the keyset condition is an index condition.
   */
  id?: FragmentSqlToken;
}

export interface ListSpec {
  /** Names the list in cursors: a cursor of one list is refused by another. */
  resource: string;
  fields: Readonly<Record<string, SortField>>;
  /** Used when the query gives no `sort`. */
  defaultSort: string;
  /** The unique id that ends every order (a uuid column). */
  id: FragmentSqlToken;
}

export interface SortKey {
  field: string;
  descending: boolean;
  sortField: SortField;
}

const casts: Record<SortType, FragmentSqlToken> = {
  text: sql.fragment`text`,
  numeric: sql.fragment`numeric`,
  bigint: sql.fragment`bigint`,
  integer: sql.fragment`integer`,
};

const badSort = (reason: string) => new ValidationFailed([{ field: 'query.sort', reason }], `query.sort: ${reason}`);

/** `sort=field,-field`: whitelisted fields, `-` for descending, each at most once. */
export function parseSort(spec: ListSpec, raw: string | undefined): SortKey[] {
  const text = raw === undefined || raw.trim() === '' ? spec.defaultSort : raw;
  const allowed = Object.keys(spec.fields);
  const keys: SortKey[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*([+-]?)([A-Za-z][A-Za-z0-9]*)\s*$/.exec(part);
    if (!match) throw badSort(`"${part}" is not a sort field; write field or -field, separated by commas (sortable: ${allowed.join(', ')})`);
    const [, sign, field = ''] = match;
    const sortField = Object.hasOwn(spec.fields, field) ? spec.fields[field] : undefined;
    if (!sortField) throw badSort(`cannot sort by "${field}"; sortable: ${allowed.join(', ')}`);
    if (keys.some((key) => key.field === field)) throw badSort(`names "${field}" twice`);
    keys.push({ field, descending: sign === '-', sortField });
  }
  return keys;
}

/** The canonical text of a sort, as cursors are bound to it. */
export const sortSpec = (keys: readonly SortKey[]): string => keys.map((key) => `${key.descending ? '-' : ''}${key.field}`).join(',');

/** The id breaks ties in the direction of the last sort key, so a one-field sort walks its index either way. */
const idDescending = (keys: readonly SortKey[]): boolean => keys.at(-1)?.descending ?? false;

const idOf = (spec: ListSpec, keys: readonly SortKey[]): FragmentSqlToken => keys[0]?.sortField.id ?? spec.id;

export function orderBy(spec: ListSpec, keys: readonly SortKey[]): FragmentSqlToken {
  const parts = keys.map(({ sortField: { expr }, descending }) =>
    descending ? sql.fragment`${expr} desc nulls first` : sql.fragment`${expr} asc nulls last`,
  );
  const id = idOf(spec, keys);
  parts.push(idDescending(keys) ? sql.fragment`${id} desc` : sql.fragment`${id} asc`);
  return sql.fragment`${sql.join(parts, sql.fragment`, `)}`;
}

export const and = (conditions: readonly FragmentSqlToken[]): FragmentSqlToken =>
  conditions.length === 0 ? sql.fragment`true` : sql.fragment`${sql.join(conditions.map((condition) => sql.fragment`(${condition})`), sql.fragment` and `)}`;

const or = (conditions: readonly FragmentSqlToken[]): FragmentSqlToken =>
  conditions.length === 0 ? sql.fragment`false` : sql.fragment`${sql.join(conditions.map((condition) => sql.fragment`(${condition})`), sql.fragment` or `)}`;

/** Rows strictly after `value` on one key, as index ranges: none after a NULL, ascending. */
function afterOn(key: SortKey, value: string | null): FragmentSqlToken[] {
  const { expr, type, nullable } = key.sortField;
  const bound = sql.fragment`${value}::${casts[type]}`;
  if (key.descending) return [value === null ? sql.fragment`${expr} is not null` : sql.fragment`${expr} < ${bound}`];
  if (value === null) return [];
  return nullable ? [sql.fragment`${expr} > ${bound}`, sql.fragment`${expr} is null`] : [sql.fragment`${expr} > ${bound}`];
}

const equalOn = (key: SortKey, value: string | null): FragmentSqlToken =>
  value === null ? sql.fragment`${key.sortField.expr} is null` : sql.fragment`${key.sortField.expr} = ${value}::${casts[key.sortField.type]}`;

/**
 * The keyset predicate "after the cursor" for any mix of directions and NULLs, consistent
 * with `orderBy`, as disjuncts whose union is every row after it. When every key has one
 * direction and no key is nullable it is one row comparison, `(a, b, id) > (x, y, z)`,
 * which PostgreSQL answers from a (a, b, id) index. Otherwise each disjunct is a range of
 * such an index ("a = x and b > y", "a is null"), which listPage reads apart: an OR of them is
 * no index condition, and a page deep in the list would walk every page before it.
 */
export function keysetAfter(spec: ListSpec, keys: readonly SortKey[], position: CursorPosition): FragmentSqlToken[] {
  const idDesc = idDescending(keys);
  const id = idOf(spec, keys);
  const uniform = keys.every((key) => key.descending === idDesc && !key.sortField.nullable);
  if (uniform) {
    const left = sql.join([...keys.map((key) => key.sortField.expr), id], sql.fragment`, `);
    const right = sql.join(
      [...keys.map((key, index) => sql.fragment`${position.values[index] ?? null}::${casts[key.sortField.type]}`), sql.fragment`${position.id}::uuid`],
      sql.fragment`, `,
    );
    return [idDesc ? sql.fragment`(${left}) < (${right})` : sql.fragment`(${left}) > (${right})`];
  }
  const disjuncts: FragmentSqlToken[] = [];
  const equalSoFar: FragmentSqlToken[] = [];
  for (const [index, key] of keys.entries()) {
    const value = position.values[index] ?? null;
    for (const after of afterOn(key, value)) disjuncts.push(and([...equalSoFar, after]));
    equalSoFar.push(equalOn(key, value));
  }
  const idAfter = idDesc ? sql.fragment`${id} < ${position.id}::uuid` : sql.fragment`${id} > ${position.id}::uuid`;
  disjuncts.push(and([...equalSoFar, idAfter]));
  return disjuncts;
}

/**
 * A page after the cursor read range by range: each disjunct of the keyset its own index walk
 * of at most a page, merged and cut to a page. The sort values are selected once more as they
 * are (`page_key_N`, `page_id`): the merge orders by them, not by their text.
 */
function unionOfRanges(
  spec: ListSpec,
  keys: readonly SortKey[],
  ranges: readonly FragmentSqlToken[],
  select: (conditions: readonly FragmentSqlToken[], extra: FragmentSqlToken) => FragmentSqlToken,
  limit: number,
): FragmentSqlToken {
  const keyName = (index: number) => sql.identifier([`page_key_${index}`]);
  const raw = sql.fragment`, ${sql.join(
    [...keys.map((key, index) => sql.fragment`${key.sortField.expr} as ${keyName(index)}`), sql.fragment`${idOf(spec, keys)} as page_id`],
    sql.fragment`, `,
  )}`;
  const order = sql.join(
    [
      ...keys.map((key, index) => (key.descending ? sql.fragment`${keyName(index)} desc nulls first` : sql.fragment`${keyName(index)} asc nulls last`)),
      idDescending(keys) ? sql.fragment`page_id desc` : sql.fragment`page_id asc`,
    ],
    sql.fragment`, `,
  );
  const parts = sql.join(
    ranges.map((range) => sql.fragment`(${select([range], raw)})`),
    sql.fragment` union all `,
  );
  return sql.fragment`select * from (${parts}) page order by ${order} limit ${limit}`;
}

/** Selects each sort value as text (`sort_0`, ...) and the id (`cursor_id`) to build the next cursor from. */
function cursorColumns(spec: ListSpec, keys: readonly SortKey[]): FragmentSqlToken {
  const columns = sql.join(
    [
      ...keys.map((key, index) => sql.fragment`(${key.sortField.expr})::text as ${sql.identifier([`sort_${index}`])}`),
      sql.fragment`${idOf(spec, keys)}::text as cursor_id`,
    ],
    sql.fragment`, `,
  );
  return sql.fragment`${columns}`;
}

/** A column the cursor is built from, checked as zod checked it: text (a sort value may be NULL). */
function cursorText(row: Record<string, unknown>, column: string, nullable: boolean): string | null {
  const value = row[column];
  if (typeof value === 'string' || (nullable && value === null)) return value;
  throw new TypeError(`list page: column ${column} is not ${nullable ? 'text or null' : 'text'}`);
}

/** slonik's placeholders as PostgreSQL's own. */
const pgText = (text: string): string => text.replace(/\$slonik_(\d+)/g, '$$$1');

/**
 * The page's query through the plain pool: slonik's query path (its interceptors and result
 * checks) was the largest share of the store page's Node CPU. Unnamed, as slonik sends it, so
 * PostgreSQL plans it for this store and this cursor each time: a prepared statement may run a
 * generic plan, chosen without them, and one walked every SKU in code order for a store of ten
 * items (docs/decisions.md, "The store page on the plain pool"). int8 arrives as text here,
 * not as bigint: the caller's toItem takes either.
 */
async function plainRows(pool: pg.Pool, statement: QuerySqlToken): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query<Record<string, unknown>>({ text: pgText(statement.sql), values: statement.values as unknown[] });
  return rows;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface ListQuery {
  pool: DatabasePool;
  /**
   * A plain `pg` pool to run the page's query on instead: int8 columns
   * then arrive as decimal text, not bigint, and `toItem` must take both.
   */
  plain?: pg.Pool | null;
  cursors: CursorCodec;
  spec: ListSpec;
  sort: string | undefined;
  cursor: string | undefined;
  limit: number;
  /** Every filter of the request (q included, path parameters too): the cursor is bound to them. */
  filters: Record<string, unknown>;
  /** Columns of the item; must not be named sort_N, cursor_id, page_key_N or page_id. */
  select: FragmentSqlToken;
  /** `from` clause: tables and joins. */
  from: FragmentSqlToken;
  where: readonly FragmentSqlToken[];
}

/**
 * One page of a list by keyset: `limit + 1` rows past the cursor, in an order that always
 * ends with the id, so a page never repeats or skips a row whatever the sort.
 */
export async function listPage<T>(query: ListQuery, toItem: (row: Record<string, unknown>) => T): Promise<Page<T>> {
  const { spec, limit } = query;
  const keys = parseSort(spec, query.sort);
  const context = cursorContext(spec.resource, sortSpec(keys), query.filters);
  const after = query.cursor === undefined ? [] : keysetAfter(spec, keys, query.cursors.decode(context, query.cursor, keys.length));
  const select = (conditions: readonly FragmentSqlToken[], extra: FragmentSqlToken = sql.fragment``) => sql.fragment`
    select ${query.select}, ${cursorColumns(spec, keys)}${extra}
      from ${query.from}
     where ${and([...query.where, ...conditions])}
     order by ${orderBy(spec, keys)}
     limit ${limit + 1}`;
  const statement = after.length <= 1 ? sql.unsafe`${select(after)}` : sql.unsafe`${unionOfRanges(spec, keys, after, select, limit + 1)}`;
  const rows: readonly Record<string, unknown>[] = query.plain ? await plainRows(query.plain, statement) : await query.pool.any(statement);
  const count = Math.min(rows.length, limit);
  let next: string | null = null;
  const last = rows[count - 1];
  if (rows.length > limit && last) {
    const values = keys.map((_, index) => cursorText(last, `sort_${index}`, true));
    next = query.cursors.encode(context, { values, id: cursorText(last, 'cursor_id', false) as string });
  }
  const items = new Array<T>(count);
  for (let index = 0; index < count; index++) items[index] = toItem(rows[index]!);
  return { items, next };
}

/** `needle` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally. */
export const containsPattern = (needle: string): string => `%${needle.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * `q`: a case-insensitive substring of any of the columns (no pattern characters: `%` matches `%`).
 * Written as `lower(column) like '%needle%'` rather than `strpos`: the same rows, and the
 * form a trigram index on `lower(column)` answers (schema.sql), where strpos scans.
 */
export function textSearch(q: string | undefined, columns: readonly FragmentSqlToken[]): FragmentSqlToken | null {
  const needle = q?.trim();
  if (!needle) return null;
  return or(columns.map((column) => contains(column, needle)));
}

const contains = (column: FragmentSqlToken, needle: string) => sql.fragment`lower(${column}) like lower(${containsPattern(needle)})`;

export interface IndexedColumn {
  expr: FragmentSqlToken;
  /** Its trigram index on `lower(expr)` (schema.sql), whose statistics tell the needle's common words. */
  trigramIndex: string;
}

/**
 * `q` as textSearch answers it, for columns with a trigram index: a needle of several words
 * looks up only its uncommon ones in the index and checks the whole needle on the rows found
 * (search-words.ts says why). `strpos` is that check: the same test as the `like`, which the
 * index cannot answer, so the planner keeps it out of the index lookup.
 */
export async function indexedTextSearch(
  q: string | undefined,
  columns: readonly IndexedColumn[],
  samples: TrigramSamples,
): Promise<FragmentSqlToken | null> {
  const needle = q?.trim();
  if (!needle) return null;
  const lookups = await Promise.all(
    columns.map(async ({ expr, trigramIndex }) => {
      const words = uncommonWords(needle, await samples.of(trigramIndex));
      if (words === null) return contains(expr, needle);
      return and([...words.map((word) => contains(expr, word)), sql.fragment`strpos(lower(${expr}), lower(${needle})) > 0`]);
    }),
  );
  return or(lookups);
}
