import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';

/**
 * scripts/kafka/kafka.sh on ports and a data folder of this test's own: a restart the
 * documented way keeps the topics; only `start --wipe` (what the test runner and CI ask
 * for) starts empty.
 */
const script = new URL('../../../scripts/kafka/kafka.sh', import.meta.url).pathname;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

test('kafka.sh start keeps the topic data; start --wipe removes it', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-kafka-script-'));
  // Ports free now, not fixed ones: another run of this test on the machine must not meet this broker.
  const [port, controllerPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_DATA_DIR: dataDir };
  delete env.KAFKA_KEEP_DATA;
  // What the script said goes into the failure: "Command failed" alone tells nothing.
  const run = (...args: string[]) => {
    const result = spawnSync('bash', [script, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.status !== 0) throw new Error(`kafka.sh ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
    return result.stdout;
  };
  const topics = async (): Promise<string[]> => {
    const admin = new Kafka({ clientId: 'kafka-script-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  };
  try {
    run('start', '--wipe');
    const admin = new Kafka({ clientId: 'kafka-script-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'kept-events', numPartitions: 1 }] });
    await admin.disconnect();

    run('stop');
    run('start');
    assert.ok((await topics()).includes('kept-events'), 'a plain restart keeps the topic');

    run('stop');
    run('start', '--wipe');
    assert.not.ok((await topics()).includes('kept-events'), 'asked to wipe, it starts empty');
  } finally {
    spawnSync('bash', [script, 'stop'], { env, stdio: 'ignore' });
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
