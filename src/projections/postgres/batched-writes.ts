import { createHash } from 'node:crypto';
import { type DatabaseTransactionConnection, type FragmentSqlToken, type IdentifierSqlToken, type QueryResult, type QuerySqlToken, sql } from 'slonik';
import { z } from 'zod/v4';

/**
 * A transaction connection whose writes (`query`: statements whose rows nobody reads) wait
 * and go to the server together, in one round trip, right before the next read or on
 * `flush`. A live batch ran some twenty statements one round trip after another (locks,
 * upserts, counters, progress), most of a change's way from answered to readable; now its
 * round trips are its reads and one or two calls of writes. They run in the order they were
 * queued, each seeing the ones before it (and taking a fresh snapshot under READ COMMITTED,
 * as a separate statement does), so a lock queued before a read is still taken before it:
 * the read flushes it first.
 *
 * They go as one call of read_model_write_batch (migration 029), which prepares each text
 * once per session and executes it with its plan kept: an anonymous DO block, as before,
 * planned every statement again at every batch (three quarters of its time). Slonik refuses
 * several statements in one query and EXECUTE takes no bound parameters, so the values are
 * written in as quoted literals: untyped, as bound parameters are, so PostgreSQL resolves
 * their types from the same context.
 */
export class BatchedWrites {
  private readonly tx: DatabaseTransactionConnection;
  private readonly queued: QuerySqlToken[] = [];
  readonly connection: DatabaseTransactionConnection;

  constructor(tx: DatabaseTransactionConnection) {
    this.tx = tx;
    const queue = (token: QuerySqlToken): Promise<QueryResult<unknown>> => {
      if (!inlinable(token)) return this.flush().then(() => tx.query(token));
      this.queued.push(token);
      return Promise.resolve(NO_ROWS);
    };
    this.connection = new Proxy(tx, {
      get: (target, property, receiver) => {
        if (property === 'query') return queue;
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        // Every other method reads (or nests a transaction): what was queued goes first.
        return (...args: unknown[]) => this.flush().then(() => Reflect.apply(value, target, args));
      },
    });
    batchedBy.set(this.connection, this);
  }

  /** The first column of a read, as text, with what is queued before it in the same round trip. */
  async readTexts(token: QuerySqlToken): Promise<string[]> {
    if (this.queued.length === 0 || !inlinable(token)) {
      await this.flush();
      return textColumn.parse(await this.tx.anyFirst(token));
    }
    return textColumn.parse(await this.tx.anyFirst(this.afterQueued(sql.fragment`null::text`, token)));
  }

  /**
   * Whole rows of `table` (the read selects its columns, in order), with what is queued
   * before it in the same round trip: the live batch's stream locks and its rows' read went
   * as two trips.
   */
  async readRows(table: IdentifierSqlToken, token: QuerySqlToken): Promise<readonly unknown[]> {
    if (this.queued.length === 0 || !inlinable(token)) {
      await this.flush();
      return this.tx.any(token);
    }
    return this.tx.any(this.afterQueued(sql.fragment`null::${table}`, token));
  }

  /** The queued writes, then the read whose rows are of `rowType`'s type, in one call (read_model_write_batch_then_rows, migration 029). */
  private afterQueued(rowType: FragmentSqlToken, token: QuerySqlToken): QuerySqlToken {
    const writes = prepared(this.queued.splice(0));
    const read = prepared([token]);
    return sql.unsafe`
      select * from read_model_write_batch_then_rows(
        ${rowType}, ${sql.array(writes.names, 'text')}, ${sql.array(writes.texts, 'text')}, ${sql.array(writes.argumentLists, 'text')},
        ${read.names[0]!}, ${read.texts[0]!}, ${read.argumentLists[0]!})`;
  }

  /** Sends what is queued, in one round trip. */
  async flush(): Promise<void> {
    const tokens = this.queued.splice(0);
    if (tokens.length > 0) await this.tx.query(writeTogether(tokens));
  }
}

/**
 * The statements as one call of read_model_write_batch, in order. Their values must be
 * literals (see inlinable); a caller outside a transaction gets one all the same (one
 * statement), and every lock it queues is held to its end.
 */
export function writeTogether(tokens: readonly QuerySqlToken[]): QuerySqlToken {
  const { names, texts, argumentLists } = prepared(tokens);
  return sql.unsafe`select read_model_write_batch(${sql.array(names, 'text')}, ${sql.array(texts, 'text')}, ${sql.array(argumentLists, 'text')})`;
}

/**
 * The first column of a read, as text. On a connection of BatchedWrites, the writes queued
 * before it go with it in one round trip (read_model_write_batch_then_rows: the read takes
 * its snapshot after them, as it would sent alone); elsewhere it is an ordinary read.
 */
export function readTexts(connection: DatabaseTransactionConnection, token: QuerySqlToken): Promise<string[]> {
  const batched = batchedBy.get(connection);
  if (batched) return batched.readTexts(token);
  return connection.anyFirst(token).then((values) => textColumn.parse(values));
}

/** Whole rows of `table` (see BatchedWrites.readRows); elsewhere an ordinary read. */
export function readRows(connection: DatabaseTransactionConnection, table: IdentifierSqlToken, token: QuerySqlToken): Promise<readonly unknown[]> {
  const batched = batchedBy.get(connection);
  if (batched) return batched.readRows(table, token);
  return connection.any(token);
}

/** Whether writes on this connection wait and go with its next read (a live batch's). */
export const isBatched = (connection: DatabaseTransactionConnection): boolean => batchedBy.has(connection);

const batchedBy = new WeakMap<DatabaseTransactionConnection, BatchedWrites>();

const textColumn = z.array(z.string());

/** Each statement as read_model_write_batch takes it: a name, the text with $n parameters, the values as a list of literals. */
function prepared(tokens: readonly QuerySqlToken[]): { names: string[]; texts: string[]; argumentLists: string[] } {
  const names: string[] = [];
  const texts: string[] = [];
  const argumentLists: string[] = [];
  for (const token of tokens) {
    if (!inlinable(token)) throw new Error(`a statement with values other than text, numbers, booleans and their arrays cannot be batched: ${token.sql}`);
    const text = numbered(token.sql);
    names.push(statementName(text));
    texts.push(text);
    argumentLists.push(token.values.length === 0 ? '' : `(${token.values.map((value) => quote(asText(value as Literal | Literal[]))).join(', ')})`);
  }
  return { names, texts, argumentLists };
}

const NO_ROWS: QueryResult<unknown> = { command: 'SELECT', fields: [], notices: [], rowCount: 0, rows: [], type: 'QueryResult' };

type Literal = string | number | bigint | boolean | null;

const isLiteral = (value: unknown): value is Literal =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean';

/** Only values this module knows how to write as text the way pg binds them (not dates, buffers, JSON objects). */
function inlinable(token: QuerySqlToken): boolean {
  return token.values.every((value) => isLiteral(value) || (Array.isArray(value) && value.every(isLiteral)));
}

/** As pg sends a parameter: text, an array in PostgreSQL's array syntax. */
function asText(value: Literal | readonly Literal[]): string | null {
  if (Array.isArray(value)) {
    const members = value.map((member: Literal) => (member === null ? 'NULL' : `"${String(member).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`));
    return `{${members.join(',')}}`;
  }
  return value === null ? null : String(value);
}

/** A quoted literal (E'' when it has a backslash, so that standard_conforming_strings does not matter). */
function quote(text: string | null): string {
  if (text === null) return 'NULL';
  const body = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

/** Slonik's placeholders as PREPARE numbers its parameters: $slonik_1 → $1. */
const numbered = (text: string): string => text.trim().replaceAll(/\$slonik_(\d+)/g, (_, index: string) => `$${index}`);

/**
 * The same text, the same name, in every session and replica; texts are few (they come from
 * the code, values are parameters), so names are remembered rather than hashed each batch.
 */
const statementNames = new Map<string, string>();
const NAMES_REMEMBERED = 1_000;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `rmw_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
    if (statementNames.size >= NAMES_REMEMBERED) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}
