// Runs every uvu suite under tests/ in one Node process (TypeScript through tsx) and
// closes with the plain "N passed, N failed, N skipped" line that CI reads.
// Usage: npm test [-- <pattern>]   e.g. npm test -- unit
//
// Tests that need Kafka use KAFKA_BROKERS; when it is unset and Java is here, a real
// broker is started for the run (scripts/kafka/kafka.sh, on ports of its own) and stopped.
// PostgreSQL and Redis: DATABASE_URL (or TEST_DATABASE_URL) and REDIS_URL, else the local
// ones on their usual ports, else an embedded PostgreSQL and a redis-server of the run's own.
// Anything missing from the machine is named, one line each, before anything runs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

const filter = process.argv[2] ?? '';

// What the tests need from this machine, said before anything runs, one line each.
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = [
  !process.env.KAFKA_BROKERS && !(has('java') && has('mvn')) && 'Java 17 and Maven, to run the Kafka broker the tests start (apt-get install openjdk-17-jdk-headless maven), or set KAFKA_BROKERS',
  !has('redis-server') && 'redis-server, which the Redis tests start on ports of their own (apt-get install redis-server)',
  !has('kcat') && 'kcat, to read the topic with a client that is not kafkajs (apt-get install kcat)',
].filter(Boolean);
if (missing.length > 0) {
  for (const line of missing) console.error(`missing: ${line}`);
  process.exit(1);
}

/** Can a TCP connection be opened to the host and port of `url`? */
const reachable = (url, fallbackPort) =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || fallbackPort) });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// PostgreSQL and Redis: the ones the settings name, else the usual local ones, else this run starts its own.
const cleanups = [];
const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
if (!databaseUrl && !(await reachable(defaultDatabaseUrl, 5432))) {
  console.log('No PostgreSQL at 127.0.0.1:5432: starting an embedded one for this run...');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-test-pg-'));
  const { startEmbeddedPostgres } = await tsImport('../src/shared/db/embedded.ts', import.meta.url);
  const embedded = await startEmbeddedPostgres(dataDir, () => {});
  process.env.DATABASE_URL = embedded.url;
  cleanups.push(async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
}
if (!process.env.REDIS_URL && !(await reachable('redis://127.0.0.1:6379', 6379))) {
  const port = await freePort();
  console.log(`No Redis at 127.0.0.1:6379: starting redis-server on ${port} for this run...`);
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let tries = 0; !(await reachable(`redis://127.0.0.1:${port}`)); tries += 1) {
    if (tries > 50) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  cleanups.push(async () => void redis.kill());
}
const pattern = `^(?=.*(?:${filter})).*\\.test\\.ts$`;

const kafkaScript = new URL('./kafka/kafka.sh', import.meta.url).pathname;
// The tests' broker starts empty: asked for explicitly, since kafka.sh keeps its data by default.
const kafkaEnv = { ...process.env, KAFKA_KEEP_DATA: '0', KAFKA_PORT: process.env.TEST_KAFKA_PORT ?? '19092', KAFKA_CONTROLLER_PORT: process.env.TEST_KAFKA_CONTROLLER_PORT ?? '19093' };
let startedKafka = false;
if (!process.env.KAFKA_BROKERS && spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0) {
  // A broker already running on those ports (another run's) is used, and left running.
  const running = spawnSync('bash', [kafkaScript, 'status'], { env: kafkaEnv, stdio: 'ignore' }).status === 0;
  if (!running) console.log('Starting a Kafka broker for the tests (scripts/kafka/kafka.sh)...');
  const line = execFileSync('bash', [kafkaScript, 'start'], { env: kafkaEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.KAFKA_BROKERS = /KAFKA_BROKERS=(\S+)/.exec(line)?.[1];
  startedKafka = !running;
}
const stopKafka = () => {
  if (startedKafka) spawnSync('bash', [kafkaScript, 'stop'], { env: kafkaEnv, stdio: 'inherit' });
};

const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'node_modules/uvu/bin.js', 'tests', pattern, '--color', 'false'],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0', KAFKAJS_NO_PARTITIONER_WARNING: '1' } },
);
process.on('SIGINT', () => child.kill('SIGINT'));

let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

child.on('close', async (code) => {
  stopKafka();
  for (const cleanup of cleanups) await cleanup().catch((error) => console.error(`while stopping a service: ${error}`));
  const count = (label) => Number(/^\s*(\d+)/.exec(output.split(`${label}:`).at(-1) ?? '')?.[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  const failed = Math.max(0, total - passed - skipped);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (code === 0 && total === 0) {
    console.error('No test ran.');
    process.exit(1);
  }
  if (code === 0 && process.env.CI && skipped > 0) {
    console.error('CI forbids skipped tests: every service a test needs must be there.');
    process.exit(1);
  }
  // A failure is a failure whatever exit code the runner ended with (a test's stray process.exit).
  process.exit(failed > 0 ? 1 : (code ?? 1));
});
