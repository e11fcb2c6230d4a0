import pg from 'pg';
import { createPool, createTypeParserPreset, type DatabasePool } from 'slonik';

export type { DatabasePool };

/** A statement never runs this long in normal work; a stuck one should fail loudly (both pools). */
const STATEMENT_TIMEOUT_MS = 60_000;

export interface PoolOptions {
  maximumPoolSize?: number;
}

/**
 * One slonik pool per process. int8 comes back as bigint (positions outgrow 2^53 in
 * theory and must survive JSON as strings anyway), timestamptz as epoch milliseconds.
 */
export const createDatabasePool = (connectionUri: string, options: PoolOptions = {}): Promise<DatabasePool> =>
  createPool(connectionUri, {
    maximumPoolSize: options.maximumPoolSize ?? 20,
    typeParsers: createTypeParserPreset(),
    // slonik's default runs DISCARD ALL on every release: a second round trip on every
    // query. The only session state left on a pooled connection here is on purpose: the
    // projector's prepared writes (migration 029), whose plans are the point of keeping it.
    resetConnection: async () => {},
    // A projector fills a gap by reading the event store while it holds its read-model
    // transaction: a second connection on purpose, which slonik refuses unless told.
    dangerouslyAllowForeignConnections: true,
    statementTimeout: STATEMENT_TIMEOUT_MS,
  });

/**
 * Session options of the append pool: the statement timeout of the slonik pool (the store
 * page reads on this pool too, and a stuck read must not hold an append's connection for
 * ever), and JIT off. Its statements are point writes and reads of a few rows, which JIT
 * never speeds up; but es_append_many's statement is costed as its
 * function's 1,000 rows times the conflict's read of missed events (run only on a conflict),
 * and once es_events grows past a few tens of thousands of rows that estimate crosses
 * jit_above_cost: every trip then compiled its plan with LLVM, 10–30 ms and over half of
 * PostgreSQL's CPU in the HTTP write cell (docs/benchmarks.md, "JIT on the append").
 * PGOPTIONS comes after, so an operator's own setting still wins.
 */
export const appendSessionOptions = (environment: string | undefined = process.env.PGOPTIONS): string =>
  [`-c statement_timeout=${STATEMENT_TIMEOUT_MS}`, '-c jit=off', environment?.trim()].filter((part) => part !== undefined && part !== '').join(' ');

/** A plain `pg` pool for the event store's append (see PostgresEventStore). */
export const createAppendPool = (connectionString: string, max = 20): pg.Pool => {
  const pool = new pg.Pool({ connectionString, max, options: appendSessionOptions() });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
};
