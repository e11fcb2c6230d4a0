import { randomBytes } from 'node:crypto';
import { sql } from 'slonik';
import { createDatabasePool, type DatabasePool } from '../../src/shared/db/pool.js';
import { migrate } from '../../src/shared/db/migrate.js';

/**
 * Each test file gets a database of its own on the real PostgreSQL server, migrated
 * like production, and dropped afterwards: CI runs on a shared machine.
 */
export const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  pool: DatabasePool;
  drop(): Promise<void>;
}

const withDatabase = (url: string, name: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `stockroom_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = await createDatabasePool(serverUrl, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`create database ${sql.identifier([name])}`);
  const url = withDatabase(serverUrl, name);
  const pool = await createDatabasePool(url);
  await migrate(url);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await admin.query(sql.unsafe`drop database if exists ${sql.identifier([name])} with (force)`);
      await admin.end();
    },
  };
}
