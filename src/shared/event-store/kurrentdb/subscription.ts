import type { Readable } from 'node:stream';
import { excludeSystemEvents, type KurrentDBClient, type ResolvedEvent, START } from '@kurrent/kurrentdb-client';
import type { RecordedEvent, SubscribeOptions, Subscription } from '../port.js';
import { isSystemEvent, toRecordedEvent } from './convert.js';

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

/**
 * What the server has sent and the stream holds now, at most `size`, without waiting for
 * more: a handler that is slower than the writers gets bigger batches, not more calls.
 */
async function* batchesOf(readable: Readable, size: number, signal: AbortSignal): AsyncGenerator<ResolvedEvent[]> {
  let ended = false;
  let failure: unknown = null;
  let notify: (() => void) | null = null;
  const wake = () => notify?.();
  readable.on('readable', wake);
  readable.on('end', () => ((ended = true), wake()));
  readable.on('error', (error) => ((failure = error), wake()));
  signal.addEventListener('abort', wake);
  try {
    for (;;) {
      const batch: ResolvedEvent[] = [];
      for (let item: ResolvedEvent | null; batch.length < size && (item = readable.read() as ResolvedEvent | null) !== null; ) batch.push(item);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (signal.aborted) return;
      if (failure) throw failure;
      if (ended) throw new Error('the $all subscription ended');
      await new Promise<void>((resolve) => (notify = resolve));
      notify = null;
    }
  } finally {
    signal.removeEventListener('abort', wake);
  }
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/**
 * A catch-up subscription to $all without system events, from an exclusive checkpoint.
 * Batches go to `onEvents` one after another; a failed batch is handed over again. A
 * dropped connection (or an event that does not parse) ends the server's subscription:
 * it is opened again from the last position handled, after a back-off that doubles up to 5 s.
 * No holes to wait on: KurrentDB assigns positions at commit, so gapWait stays null.
 */
export function subscribeToAll(client: KurrentDBClient, options: SubscribeOptions): Subscription {
  const batchSize = options.batchSize ?? 500;
  const stopping = new AbortController();
  let checkpoint = options.after;

  const deliver = async (events: RecordedEvent[]) => {
    let delay = options.idleMs ?? FIRST_RETRY_MS;
    while (!stopping.signal.aborted) {
      try {
        await options.onEvents(events);
        checkpoint = events.at(-1)!.position;
        return;
      } catch (error) {
        options.onError?.(error);
        await pause(delay, stopping.signal);
        delay = Math.min(delay * 2, LAST_RETRY_MS);
      }
    }
  };

  const run = async () => {
    let delay = FIRST_RETRY_MS;
    while (!stopping.signal.aborted) {
      const from = checkpoint;
      const subscription = client.subscribeToAll(
        { fromPosition: from === 0n ? START : { commit: from, prepare: from }, filter: excludeSystemEvents() },
        { highWaterMark: batchSize },
      );
      try {
        for await (const batch of batchesOf(subscription, batchSize, stopping.signal)) {
          // The server's filter leaves the system events out; the check here keeps a
          // server that sent one anyway from handing it to a projection.
          const events = batch.filter((resolved) => !isSystemEvent(resolved)).map(toRecordedEvent).filter((e) => e.position > checkpoint);
          if (events.length > 0) await deliver(events);
          delay = FIRST_RETRY_MS;
          if (stopping.signal.aborted) break;
        }
      } catch (error) {
        if (!stopping.signal.aborted) options.onError?.(error);
      } finally {
        await subscription.unsubscribe().catch(() => {});
      }
      await pause(delay, stopping.signal);
      delay = Math.min(delay * 2, LAST_RETRY_MS);
    }
  };
  const running = run();

  return {
    get checkpoint() {
      return checkpoint;
    },
    gapWait: null,
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
