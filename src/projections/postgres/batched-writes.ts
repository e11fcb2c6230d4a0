import type { DatabaseTransactionConnection, QueryResult, QuerySqlToken } from 'slonik';

/**
 * A transaction connection whose writes (`query`: statements whose rows nobody reads) wait
 * and go to the server together, as one DO block, right before the next read or on
 * `flush`. A live batch ran some twenty statements one round trip after another (locks,
 * upserts, counters, progress), most of a change's way from answered to readable; now its
 * round trips are its reads and one or two blocks of writes. PL/pgSQL runs the statements
 * in the order they were queued, each seeing the ones before it (and taking a fresh
 * snapshot under READ COMMITTED, as a separate statement does), so a lock queued before a
 * read is still taken before it: the read flushes it first.
 *
 * Slonik refuses several statements in one query and PL/pgSQL takes no bound parameters,
 * so the values are written into the block as quoted literals: untyped, as bound
 * parameters are, so PostgreSQL resolves their types from the same context.
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
  }

  /** Sends what is queued, in one round trip. */
  async flush(): Promise<void> {
    const tokens = this.queued.splice(0);
    if (tokens.length === 0) return;
    if (tokens.length === 1) {
      await this.tx.query(tokens[0]!);
      return;
    }
    await this.tx.query({ ...tokens[0]!, sql: doBlock(tokens.map(inline)), values: [] });
  }
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

/** The statement with its values written in; a SELECT (a lock) becomes PERFORM, PL/pgSQL's way to discard rows. */
function inline(token: QuerySqlToken): string {
  const text = token.sql.replaceAll(/\$slonik_(\d+)/g, (_, index: string) => quote(asText(token.values[Number(index) - 1] as Literal | Literal[])));
  return text.trim().replace(/^select\b/i, 'perform');
}

/** The statements as one anonymous block, quoted with a tag none of them contains. */
function doBlock(statements: readonly string[]): string {
  const body = statements.join(';\n');
  let tag = 'batch';
  for (let n = 0; body.includes(`$${tag}$`); n += 1) tag = `batch${n}`;
  return `do $${tag}$ begin\n${body};\nend $${tag}$`;
}
