import { readFile } from 'node:fs/promises';
import pg from 'pg';

/** Queries read this schema; a rebuild fills READ_MODEL_NEXT and swaps it in. */
export const READ_MODEL = 'read_model';
export const READ_MODEL_NEXT = 'read_model_next';

const ddl = () => readFile(new URL('./schema.sql', import.meta.url), 'utf8');

/**
 * Creates the read model's tables in `schema` unless the schema exists. The read model is
 * disposable (every row can be rebuilt from the event store), so it is not migrated: a
 * change of schema.sql is applied by `npm run projections:rebuild`.
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
    await client.query(await ddl());
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
