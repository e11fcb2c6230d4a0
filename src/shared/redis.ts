import { createHash } from 'node:crypto';
import { type ChainableCommander, Redis } from 'ioredis';

export type { Redis };

export interface CreateRedisOptions {
  /** Prepended to every key (ioredis adds it, Lua KEYS included), e.g. `stockroom:`. */
  keyPrefix: string;
  /** How long a command may take before it fails (the caller then falls back). Default 200 ms. */
  commandTimeoutMs?: number;
  /** How long one connection attempt may take. Default 200 ms. */
  connectTimeoutMs?: number;
  /** Connection errors, once per failed attempt while Redis is away. Default: ignored. */
  onError?: (error: Error) => void;
}

/** The wait before reconnection attempt `times`: 50 ms doubling, capped at 1 s, for ever. */
export const reconnectDelay = (times: number): number => Math.min(1_000, 50 * 2 ** Math.min(Math.max(times - 1, 0), 5));

/**
 * A client for a path that must never hang a request: a command sent while Redis is
 * away fails at once (no offline queue) instead of waiting for a reconnection, a command
 * in flight fails after `commandTimeoutMs`, and the client keeps reconnecting in the
 * background for as long as the process lives, so that Redis coming back is noticed.
 */
export function createRedis(url: string, options: CreateRedisOptions): Redis {
  const client = new Redis(url, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 200,
    commandTimeout: options.commandTimeoutMs ?? 200,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  });
  // Without a listener ioredis prints every failed reconnection to stderr.
  client.on('error', options.onError ?? (() => {}));
  return client;
}

/** True when a command sent now goes to a connected server. */
export const isRedisReady = (client: Redis): boolean => client.status === 'ready';

const runIds = new WeakMap<Redis, Promise<string>>();
const watched = new WeakSet<Redis>();

/**
 * The `run_id` of the server this client is connected to: it changes on every restart of
 * Redis, persisted or not. Cached per connection (forgotten when it closes).
 */
export function serverRunId(client: Redis): Promise<string> {
  if (!watched.has(client)) {
    watched.add(client);
    client.on('close', () => runIds.delete(client));
  }
  let known = runIds.get(client);
  if (!known) {
    known = client.info('server').then((text) => {
      const runId = /^run_id:([0-9a-f]+)\s*$/m.exec(text)?.[1];
      if (!runId) throw new Error('Redis did not report its run_id');
      return runId;
    });
    runIds.set(client, known);
    const current = known;
    current.catch(() => {
      if (runIds.get(client) === current) runIds.delete(client);
    });
  }
  return known;
}

/**
 * A Lua script sent by its SHA1 (EVALSHA), and in full once when the server does not know
 * it yet (after a restart, or the first time).
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** The replies of a MULTI (or pipeline), each checked: one failed command fails the whole read. */
export async function execAll(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (!replies) throw new Error('Redis discarded the transaction');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
