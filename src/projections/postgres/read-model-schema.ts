import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { READ_MODEL } from '../../shared/read-model/schema-name.js';

/** Queries read READ_MODEL; a rebuild fills READ_MODEL_NEXT and swaps it in. */
export { READ_MODEL };
export const READ_MODEL_NEXT = 'read_model_next';

const ddl = () => readFile(new URL('./schema.sql', import.meta.url), 'utf8');

/** What this release's read model looks like: the sha256 of schema.sql. */
export const schemaFingerprint = async (): Promise<string> => createHash('sha256').update(await ddl()).digest('hex');

/** The fingerprint the read model in `schema` was created with; null when it has none (created before fingerprints). */
export async function storedFingerprint(pool: DatabasePool, schema = READ_MODEL): Promise<string | null> {
  const table = `${schema}.schema_fingerprint`;
  const exists = await pool.oneFirst(sql.unsafe`select to_regclass(${table}) is not null`);
  if (!z.boolean().parse(exists)) return null;
  return z.string().nullable().parse(await pool.maybeOneFirst(sql.unsafe`select fingerprint from ${sql.identifier([schema, 'schema_fingerprint'])}`));
}

/**
 * Creates the read model's tables in `schema` unless the schema exists, and records the
 * fingerprint of the schema.sql they came from. The read model is disposable (every row
 * can be rebuilt from the event store), so it is not migrated: a change of schema.sql is
 * applied by a rebuild (read-model-upgrade.ts starts one when the fingerprint differs).
 */
export async function ensureReadModelSchema(databaseUrl: string, schema = READ_MODEL, { replace = false } = {}): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    // Two replicas starting together: one creates, the other waits and finds it there.
    await client.query(`select pg_advisory_xact_lock(hashtext('stockroom.read_model_schema'))`);
    const { rowCount } = await client.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (rowCount && !replace) {
      await client.query('commit');
      return false;
    }
    if (rowCount) await client.query(`drop schema ${pg.escapeIdentifier(schema)} cascade`);
    await client.query(`create schema ${pg.escapeIdentifier(schema)}`);
    await client.query(`set local search_path to ${pg.escapeIdentifier(schema)}`);
    const text = await ddl();
    await client.query(text);
    await client.query('insert into schema_fingerprint (fingerprint) values ($1)', [createHash('sha256').update(text).digest('hex')]);
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
