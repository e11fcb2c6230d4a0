import { Redis as IORedis } from 'ioredis';
import { describeError, progress } from './progress.js';

/** Whether Redis answers a PING within two seconds: the cells that want it say so when it does not. */
export async function redisReachable(url: string): Promise<boolean> {
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under a bench prefix (a client without prefix, SCAN + UNLINK). */
export async function deleteKeys(url: string, keyPrefix: string, section: string): Promise<void> {
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== '0');
  } catch (error) {
    progress(`${section}: could not delete the Redis keys ${keyPrefix}*: ${describeError(error)}`);
  } finally {
    redis.disconnect();
  }
}
