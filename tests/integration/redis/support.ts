import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { RedisProjector } from '../../../src/projections/redis/projector.js';
import type { BusBatch } from '../../../src/shared/event-bus/port.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import { PostgresEventStore } from '../../../src/shared/event-store/postgres/index.js';
import { newId } from '../../../src/shared/ids.js';
import { createRedis } from '../../../src/shared/redis.js';
import { stockItems } from '../../../src/write/aggregates.js';
import { type CommandContext, CommandHandler } from '../../../src/write/command-handler.js';
import type { StockItemCommand } from '../../../src/write/stock-item/commands.js';
import { stockItemStream } from '../../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { waitFor } from '../../support/wait-for.js';

/** The Redis of the test run; each test file isolates itself by a key prefix of its own. */
export const sharedRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const testPrefix = (label: string): string => `stockroom-test:${label}:${randomBytes(4).toString('hex')}:`;

export { waitFor };

export const waitReady = (client: Redis, timeoutMs = 10_000): Promise<void> =>
  waitFor(() => client.status === 'ready', 'Redis to be ready', timeoutMs);

/** A client of the application's kind on a prefix of its own, and a cleanup that deletes the prefix. */
export async function prefixedRedis(url: string, label: string): Promise<{ client: Redis; prefix: string; cleanup(): Promise<void> }> {
  const prefix = testPrefix(label);
  // Tests run on a busy machine: a looser timeout than production's keeps them from flaking.
  const client = createRedis(url, { keyPrefix: prefix, commandTimeoutMs: 2_000, connectTimeoutMs: 500 });
  await waitReady(client);
  return {
    client,
    prefix,
    async cleanup() {
      client.disconnect();
      await deletePrefix(url, prefix);
    },
  };
}

/** SCAN + DEL of every key under a prefix, on a plain client. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await raw.connect();
    let cursor = '0';
    do {
      const [next, found] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await raw.del(...found);
    } while (cursor !== '0');
  } finally {
    raw.disconnect();
  }
}

/** Every key under the prefix with its content, for before/after comparisons. */
export async function dumpPrefix(client: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found.map((key) => key.slice(prefix.length)));
  } while (cursor !== '0');
  const dump: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const type = await client.type(key);
    if (type === 'hash') dump[key] = await client.hgetall(key);
    else if (type === 'set') dump[key] = (await client.smembers(key)).sort();
    else if (type === 'zset') dump[key] = await client.zrange(key, 0, -1, 'WITHSCORES');
    else dump[key] = await client.get(key);
  }
  return dump;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/** A redis-server of the test's own, that it can kill (SIGKILL) and start again, empty, on the same port. */
export class RedisServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `extraArgs`: more redis-server options, e.g. `['--maxmemory', '3mb']`. */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    if (this.process) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  }

  /** Redis hangs (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** No shutdown, no save: the process is gone at once, as in a crash. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

export const context = (): CommandContext => ({ actor: null, correlationId: newId(), now: new Date() });

/** An event store on a database of its own, with the write side's command handler. */
export interface StockWorld {
  db: TestDatabase;
  store: PostgresEventStore;
  commands: CommandHandler;
  /** Adds a new item; answers its ids and stream. */
  addItem(quantity: number, lowStockThreshold: number, storeId?: string): Promise<{ storeId: string; skuId: string; streamId: string }>;
  /** Runs a command on an item; answers the events it recorded. */
  run(item: { storeId: string; skuId: string }, command: DistributiveOmit<StockItemCommand, 'storeId' | 'skuId'>): Promise<RecordedEvent[]>;
  /** The stock item as the write side knows it now. */
  truth(item: { storeId: string; skuId: string }): Promise<{ present: boolean; quantity: number; lowStockThreshold: number; revision: number }>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export async function stockWorld(label: string): Promise<StockWorld> {
  const db = await createTestDatabase(label);
  const store = new PostgresEventStore(db.pool);
  const commands = new CommandHandler(store);
  const world: StockWorld = {
    db,
    store,
    commands,
    async addItem(quantity, lowStockThreshold, storeId = newId()) {
      const skuId = newId();
      await world.run({ storeId, skuId }, { type: 'AddStockItem', quantity, lowStockThreshold, storeStatus: 'open', skuExists: true });
      return { storeId, skuId, streamId: stockItemStream(storeId, skuId) };
    },
    async run(item, command) {
      const streamId = stockItemStream(item.storeId, item.skuId);
      const before = await store.streamRevision(streamId);
      await commands.handle(stockItems, streamId, { ...command, storeId: item.storeId, skuId: item.skuId } as StockItemCommand, context());
      return store.readStream(streamId, { fromRevision: before + 1 });
    },
    async truth(item) {
      const loaded = await commands.load(stockItems, stockItemStream(item.storeId, item.skuId));
      const state = loaded.state;
      if (state.status === 'absent') throw new Error('no such item');
      return { present: state.status === 'present', quantity: state.quantity, lowStockThreshold: state.lowStockThreshold, revision: loaded.revision };
    },
  };
  return world;
}

/** A batch as the bus would deliver it: the events, on partition 0, through the last one. */
export const batchOf = (events: readonly RecordedEvent[], through?: bigint): BusBatch => ({
  events: [...events],
  partition: 0,
  through: through ?? events.reduce((max, event) => (event.position > max ? event.position : max), 0n),
});

/** A projector whose model is complete (rebuilt from the store as it is now). */
export async function readyProjector(client: Redis, world: StockWorld): Promise<RedisProjector> {
  const projector = new RedisProjector(client, world.store);
  await projector.registerPartitions(1);
  await projector.applyBatch(batchOf([], 0n));
  return projector;
}
