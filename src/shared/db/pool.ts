import pg from 'pg';
import { createPool, createTypeParserPreset, type DatabasePool } from 'slonik';

export type { DatabasePool };

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
    // A statement never runs this long in normal work; a stuck one should fail loudly.
    statementTimeout: 60_000,
  });

/** A plain `pg` pool for the event store's append (see PostgresEventStore). */
export const createAppendPool = (connectionString: string, max = 20): pg.Pool => {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
};
