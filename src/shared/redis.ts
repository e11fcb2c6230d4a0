import { createHash } from 'node:crypto';
import { type ChainableCommander, Redis } from 'ioredis';
import { backoffDelayMs } from './backoff.js';

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

/** The wait before reconnection attempt `times`: 50 ms doubling, capped at 1 s, jittered (backoff.ts), for ever. */
export const reconnectDelay = (times: number): number => backoffDelayMs(times, { baseMs: 50, maxMs: 1_000 });

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

/**
 * The server is set to evict keys without a TTL when it runs out of memory (maxmemory with an
 * `allkeys-*` policy, as a managed Redis run as a cache often is). Every key of ours lacks a
 * TTL, so such a server may forget any of them at any moment: nothing read from it can be
 * taken as complete.
 */
export class RedisMayEvict extends Error {
  constructor(readonly policy: string) {
    super(`Redis may evict any key (maxmemory-policy ${policy}); it is not used as a complete copy until that changes`);
  }
}

/** The policy under which this `INFO memory` text's server may evict a key without a TTL; null when it never does. */
export function evictingPolicy(infoMemory: string): string | null {
  const maxmemory = Number(/^maxmemory:(\d+)\s*$/m.exec(infoMemory)?.[1] ?? 'NaN');
  const policy = /^maxmemory_policy:(\S+)\s*$/m.exec(infoMemory)?.[1];
  if (policy === undefined || Number.isNaN(maxmemory)) throw new Error('Redis did not report its maxmemory and maxmemory-policy');
  // No memory limit: nothing is ever evicted. `volatile-*` evicts only keys with a TTL.
  return maxmemory > 0 && policy.startsWith('allkeys-') ? policy : null;
}

/** How long one look at the eviction policy is taken as current: a CONFIG SET is noticed within this. */
const POLICY_FRESH_MS = 1_000;
const policyChecks = new WeakMap<Redis, { at: number; check: Promise<void> }>();

/**
 * Resolves when the server keeps every key (no eviction of keys without a TTL), rejects with
 * RedisMayEvict when it may forget one. Looked up at most once a second per client.
 */
export function assertKeepsEveryKey(client: Redis): Promise<void> {
  const known = policyChecks.get(client);
  if (known && Date.now() - known.at < POLICY_FRESH_MS) return known.check;
  const check = client.info('memory').then((text) => {
    const policy = evictingPolicy(text);
    if (policy !== null) throw new RedisMayEvict(policy);
  });
  policyChecks.set(client, { at: Date.now(), check });
  // A failed look (Redis away) is not kept: the next caller looks again.
  check.catch((error: unknown) => {
    if (!(error instanceof RedisMayEvict) && policyChecks.get(client)?.check === check) policyChecks.delete(client);
  });
  return check;
}

const runIds = new WeakMap<Redis, Promise<string>>();
const watched = new WeakSet<Redis>();

/**
 * The `run_id` of the server this client is connected to: it changes on every restart of
 * Redis, persisted or not. Cached per connection (forgotten when it closes). Rejects with
 * RedisMayEvict when the server may evict our keys: a model can never be complete there.
 */
export async function serverRunId(client: Redis): Promise<string> {
  const [runId] = await Promise.all([connectionRunId(client), assertKeepsEveryKey(client)]);
  return runId;
}

function connectionRunId(client: Redis): Promise<string> {
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
