import type { EventStore, RecordedEvent } from './port.js';

/**
 * Reads every event after `after` up to the head as it stands when called, through the
 * gap-safe subscription (a plain readAll could step over an event still committing), and
 * resolves with the last position delivered.
 */
export function catchUp(
  store: EventStore,
  options: {
    after: bigint;
    batchSize?: number;
    /** Stop at this position (inclusive) rather than the head: a replay to a point. */
    until?: bigint;
    onEvents(events: RecordedEvent[]): Promise<void>;
  },
): Promise<bigint> {
  return store.headPosition().then((storeHead) => {
    const head = options.until !== undefined && options.until < storeHead ? options.until : storeHead;
    return new Promise<bigint>((resolve, reject) => {
      if (head <= options.after) return resolve(options.after);
      let through = options.after;
      const subscription = store.subscribe({
        after: options.after,
        batchSize: options.batchSize ?? 5_000,
        idleMs: 5,
        onError: (error) => void subscription.stop().then(() => reject(error)),
        onEvents: async (delivered) => {
          const events = delivered.filter((event) => event.position <= head);
          if (events.length > 0) {
            await options.onEvents(events);
            through = events.at(-1)!.position;
          }
          if (delivered.at(-1)!.position >= head) void subscription.stop().then(() => resolve(through));
        },
      });
    });
  });
}
