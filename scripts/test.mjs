// Runs every uvu suite under tests/ in one Node process (TypeScript through tsx) and
// closes with the plain "N passed, N failed, N skipped" line that CI reads.
// Usage: npm test [-- <pattern>]   e.g. npm test -- unit
//
// Tests that need Kafka use KAFKA_BROKERS; when it is unset and Java is here, a real
// broker is started for the run (scripts/kafka/kafka.sh, on ports of its own) and stopped.
import { execFileSync, spawn, spawnSync } from 'node:child_process';

const filter = process.argv[2] ?? '';
const pattern = `^(?=.*(?:${filter})).*\\.test\\.ts$`;

const kafkaScript = new URL('./kafka/kafka.sh', import.meta.url).pathname;
const kafkaEnv = { ...process.env, KAFKA_PORT: process.env.TEST_KAFKA_PORT ?? '19092', KAFKA_CONTROLLER_PORT: process.env.TEST_KAFKA_CONTROLLER_PORT ?? '19093' };
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

child.on('close', (code) => {
  stopKafka();
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
  process.exit(code ?? 1);
});
