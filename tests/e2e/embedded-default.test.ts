import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * `npm start` with no settings: the embedded PostgreSQL under DATA_DIR, the first manager
 * printed once, a clean stop on Ctrl-C, and the same data after a restart.
 */
const test = suite<{ dataDir: string }>('e2e: the embedded default');

interface Running {
  child: ChildProcess;
  output: () => string;
  address: string;
}

async function start(dataDir: string, logLevel = 'warn'): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: logLevel };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS', 'ADMIN_PASSWORD', 'JWT_SECRET', 'NODE_ENV']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not listen within 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output, address: /listening on (http:\/\/\S+)/.exec(output)![1]! };
}

async function stop(running: Running, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
  running.child.kill(signal);
  return exited;
}

const login = (address: string, password: string) =>
  fetch(`${address}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });

test.before(async (context) => {
  context.dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-e2e-'));
});
test.after(async ({ dataDir }) => rm(dataDir, { recursive: true, force: true }));

test('starts with nothing configured, prints the first manager once, keeps data across a restart', async ({ dataDir }) => {
  const first = await start(dataDir);
  const password = /Password:\s+(\S+)/.exec(first.output())?.[1];
  assert.ok(password, `a generated password is printed:\n${first.output()}`);
  const token = ((await (await login(first.address, password)).json()) as { token: string }).token;
  const created = await fetch(`${first.address}/api/stores`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'Harbour' }),
  });
  assert.is(created.status, 201);
  const { id: storeId, position } = (await created.json()) as { id: string; position: string };
  // The embedded default serves queries too: in-process bus, projector, read model.
  const stores = await fetch(`${first.address}/api/stores`, { headers: { authorization: `Bearer ${token}`, 'x-min-position': position } });
  assert.is(stores.status, 200);
  assert.equal(((await stores.json()) as { items: { id: string; name: string }[] }).items.map((s) => [s.id, s.name]), [[storeId, 'Harbour']]);
  assert.is(await stop(first), 0, 'Ctrl-C stops cleanly');

  // Info this time: the stop below must reach the log to its last line.
  const second = await start(dataDir, 'info');
  assert.not.match(second.output(), /Password:/, 'the password is printed only at the first start');
  const again = await login(second.address, password);
  assert.is(again.status, 200, 'the same manager after a restart');
  const secondToken = ((await again.json()) as { token: string }).token;
  // The store written before the restart is still there: renaming it works on its stream.
  const renamed = await fetch(`${second.address}/api/stores/${storeId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secondToken}` },
    body: JSON.stringify({ name: 'Harbour Front' }),
  });
  assert.is(renamed.status, 200);
  const renamedBody = (await renamed.json()) as { revision: number; position: string };
  assert.is(renamedBody.revision, 1);
  const one = await fetch(`${second.address}/api/stores/${storeId}`, {
    headers: { authorization: `Bearer ${secondToken}`, 'x-min-position': renamedBody.position },
  });
  assert.is(((await one.json()) as { name: string }).name, 'Harbour Front', 'the read model followed across the restart');
  // A token issued before the restart still verifies: the generated secret is kept in DATA_DIR.
  const oldToken = await fetch(`${second.address}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(oldToken.status, 200);
  // SIGTERM, as an orchestrator stops it: every step, then `stopped`, flushed before the exit.
  assert.is(await stop(second, 'SIGTERM'), 0);
  const logLines = second
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; level: number; signal?: string });
  assert.ok(
    logLines.some((line) => line.msg === 'stopping' && line.signal === 'SIGTERM'),
    `the stop says its signal:\n${second.output().slice(-2000)}`,
  );
  assert.is(logLines.at(-1)?.msg, 'stopped', `the last line is "stopped":\n${second.output().slice(-2000)}`);
  assert.not.ok(
    logLines.some((line) => line.level >= 50),
    `no error while stopping:\n${logLines.filter((line) => line.level >= 50).map((line) => JSON.stringify(line)).join('\n')}`,
  );
});

test.run();
