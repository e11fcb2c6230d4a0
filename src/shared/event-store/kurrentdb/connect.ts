import { BACKWARDS, END, KurrentDBClient } from '@kurrent/kurrentdb-client';

export interface KurrentDbWait {
  attempt: number;
  /** When the next attempt is made. */
  retryInMs: number;
  reason: string;
}

const FIRST_WAIT_MS = 500;
const LAST_WAIT_MS = 10_000;

/**
 * A client of the KurrentDB at `url`, once the server answers a read. Until then it waits,
 * doubling the pause up to 10 s, and tells `onWait` each time: an event store that is not
 * up yet (a cluster starting together) is a wait, not a crash loop. A connection string
 * the client refuses is thrown at once: no wait makes it right.
 */
export async function connectKurrentDb(
  url: string,
  options: { onWait?(wait: KurrentDbWait): void; signal?: AbortSignal; probeTimeoutMs?: number } = {},
): Promise<KurrentDBClient> {
  for (let attempt = 1, pause = FIRST_WAIT_MS; ; attempt += 1, pause = Math.min(pause * 2, LAST_WAIT_MS)) {
    // A client per attempt: one whose first connection failed keeps failing once the server is up.
    const client = KurrentDBClient.connectionString(url);
    try {
      await probe(client, options.probeTimeoutMs ?? 3_000);
      return client;
    } catch (error) {
      await client.dispose().catch(() => {});
      if (options.signal?.aborted) throw new Error(`stopped while waiting for KurrentDB at ${url}`);
      const reason = error instanceof Error ? (error.message && error.message !== error.name ? `${error.name}: ${error.message}` : error.name) : String(error);
      options.onWait?.({ attempt, retryInMs: pause, reason });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

async function probe(client: KurrentDBClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const read = (async () => {
    for await (const _ of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, deadline: timeoutMs })) break;
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
