import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod/v4';
import { serverUrl } from './config.js';
import { describeError, progress } from './progress.js';

/**
 * Every scenario runs in a database of its own, stockroom_bench_<label>_<random>, on
 * the configured server, dropped afterwards (also on Ctrl-C): nothing one scenario
 * wrote can slow down or speed up the next.
 */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const live = new Set<string>();

export const databaseUrl = (server: string, name: string): string => {
  const parsed = new URL(server);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`));
  live.delete(name);
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const slug = label.replace(/[^a-z0-9]+/gi, '_').toLowerCase().slice(0, 30);
  const name = `stockroom_bench_${slug}_${randomBytes(4).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${quoteIdentifier(name)}`));
  live.add(name);
  return { name, url: databaseUrl(serverUrl, name), drop: () => dropDatabase(name) };
}

/** Creates a fresh database, hands its URL to `work`, and drops it whatever happens. */
export async function withFreshDatabase<T>(label: string, work: (database: BenchDatabase) => Promise<T>): Promise<T> {
  const database = await createBenchDatabase(label);
  try {
    return await work(database);
  } finally {
    await database.drop().catch((error: unknown) => progress(`could not drop ${database.name}: ${describeError(error)}`));
  }
}

/**
 * Flushes dirty pages before a measured cell, so that it does not pay for the previous
 * cell's writes. Needs a superuser (or pg_checkpoint); silently skipped otherwise.
 */
export async function checkpoint(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('checkpoint');
  } catch {
    // Not allowed for this role: the cell runs without it.
  } finally {
    await client.end();
  }
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

const settingRows = z.array(z.object({ name: z.string(), setting: z.string(), unit: z.string().nullable() }));

/** What the server is and how it commits: numbers mean little without fsync and synchronous_commit. */
export async function serverInfo(): Promise<ServerInfo> {
  return withAdmin(async (client) => {
    const version = z.string().parse((await client.query('select version() as version')).rows[0]?.version);
    const { rows } = await client.query(
      `select name, setting, unit from pg_settings
        where name = any($1::text[]) order by name`,
      [['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections', 'autovacuum', 'commit_delay']],
    );
    const settings: Record<string, string> = {};
    for (const row of settingRows.parse(rows)) settings[row.name] = row.unit ? `${row.setting} ${row.unit}` : row.setting;
    return { version, settings };
  });
}

/** Drops whatever this process created and has not dropped yet (Ctrl-C, crash). */
export async function dropLiveDatabases(): Promise<void> {
  for (const name of [...live]) {
    await dropDatabase(name).catch(() => {});
  }
}

/**
 * A plain pg.Pool for an appender. Its idle connections are killed when the scenario's
 * database is dropped (with force) right after pool.end(): that must not crash the run.
 */
export function benchPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  return pool;
}
