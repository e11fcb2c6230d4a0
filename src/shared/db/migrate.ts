import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod/v4';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
const fileName = /^(\d{3})_([a-z0-9_]+)\.sql$/;

// Any fixed 64-bit number works; it only has to be the same in every replica.
const MIGRATION_LOCK = '7451203311';

/**
 * Applies the versioned SQL files in ./migrations in order, each in its own
 * transaction, once. Replicas starting together serialize on an advisory lock.
 *
 * A plain pg client and not slonik: a migration file holds many statements, which
 * only the simple query protocol runs, and slonik refuses on purpose.
 */
export async function migrate(connectionUri: string, log: (message: string) => void = () => {}): Promise<number[]> {
  const files = (await readdir(migrationsDir)).filter((name) => fileName.test(name)).sort();
  const client = new pg.Client({ connectionString: connectionUri });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(${MIGRATION_LOCK})`);
    await client.query(`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`);
    const { rows } = await client.query('select version from schema_migrations');
    const applied = new Set(z.array(z.object({ version: z.number() })).parse(rows).map((row) => row.version));
    const done: number[] = [];
    for (const file of files) {
      const [, versionText, name] = fileName.exec(file) ?? [];
      const version = Number(versionText);
      if (applied.has(version)) continue;
      const text = await readFile(`${migrationsDir}${file}`, 'utf8');
      await client.query('begin');
      try {
        await client.query(text);
        await client.query('insert into schema_migrations (version, name) values ($1, $2)', [version, name]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      log(`applied migration ${file}`);
      done.push(version);
    }
    return done;
  } finally {
    await client.query(`select pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => {});
    await client.end();
  }
}
