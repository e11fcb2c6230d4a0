import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../../src/app.js';
import { type Background, startBackground } from '../../../src/background.js';
import type { LiveOptions } from '../../../src/read/ws/plugin.js';
import { loadConfig } from '../../../src/shared/config.js';
import { createAppendPool } from '../../../src/shared/db/pool.js';
import { KafkaBus } from '../../../src/shared/event-bus/kafka.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { ensureFirstManager } from '../../../src/write/first-manager.js';
import { ADMIN, type Client, clientWithToken, type Harness, login, type TestApp } from '../../support/app.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { kafkaBrokers } from '../../support/kafka.js';
import { quietLog } from '../../support/pipeline.js';

const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface Reader {
  app: TestApp;
  background: Background;
  /** ws://host:port/ws */
  url: string;
}

/**
 * Processes by role on one database and one real Kafka topic, as a deployment runs them:
 * a writer (write API, forwarder, projector) and read APIs each with its own notifier,
 * listening on real ports for websocket clients.
 */
export interface LiveCluster {
  db: TestDatabase;
  eventStore: PostgresEventStore;
  writer: Harness;
  readers: Reader[];
  manager: Client;
  close(): Promise<void>;
}

export async function startLiveCluster(
  label: string,
  { readers = 2, liveOptions = {} }: { readers?: number; liveOptions?: Omit<LiveOptions, 'feed'> | ((index: number) => Omit<LiveOptions, 'feed'>) } = {},
): Promise<LiveCluster> {
  const db = await createTestDatabase(label);
  const appendPool = createAppendPool(db.url);
  const eventStore = new PostgresEventStore(db.pool, appendPool);
  const topic = `stockroom-test-${label}-${randomBytes(3).toString('hex')}`;
  const bus = () => new KafkaBus({ brokers: kafkaBrokers(), topic, partitions: 3 });
  const first = bus();
  await first.ensureTopic();

  const writerConfig = loadConfig({ NODE_ENV: 'test', JWT_SECRET, ROLES: 'write-api,forwarder,projector' });
  const writerBackground = await startBackground({ config: writerConfig, pool: db.pool, databaseUrl: db.url, eventStore, bus: first, log: quietLog });
  const writerApp = await buildApp({ config: writerConfig, pool: db.pool, eventStore, jwtSecret: JWT_SECRET, logger: false });
  await ensureFirstManager(writerApp.commands, ADMIN);

  const started: Reader[] = [];
  for (let index = 0; index < readers; index += 1) {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET, ROLES: 'read-api,notifier' });
    const background = await startBackground({ config, pool: db.pool, databaseUrl: db.url, eventStore, bus: bus(), log: quietLog });
    const options = typeof liveOptions === 'function' ? liveOptions(index) : liveOptions;
    const app = await buildApp({ config, pool: db.pool, eventStore, jwtSecret: JWT_SECRET, logger: false, live: background.notifier, liveOptions: options });
    await app.listen({ port: 0, host: '127.0.0.1' });
    started.push({ app, background, url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws` });
  }

  const writer: Harness = {
    db,
    eventStore,
    background: writerBackground,
    app: writerApp,
    async restart() {
      throw new Error('not used');
    },
    async close() {},
  };
  return {
    db,
    eventStore,
    writer,
    readers: started,
    manager: await login(writer, ADMIN.username, ADMIN.password),
    async close() {
      for (const reader of started) {
        await reader.app.close();
        await reader.background.stop();
      }
      await writerApp.close();
      await writerBackground.stop();
      await appendPool.end();
      await db.drop();
    },
  };
}

export { clientWithToken, login };
