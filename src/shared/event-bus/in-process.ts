import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs, REDELIVERY_BACKOFF } from '../backoff.js';
import type { RecordedEvent } from '../event-store/port.js';
import type { BusBatch, BusSubscribeOptions, BusSubscription, EventBus } from './port.js';

/** Batches a consumer group may have waiting before publish waits for it. */
const MAX_QUEUED_BATCHES = 64;

interface Group {
  queue: BusBatch[];
  members: BusSubscribeOptions[];
  draining: boolean;
}

/**
 * The embedded default's bus: one partition, one queue per consumer group, in memory.
 * Not durable, and need not be: the forwarder's checkpoint moves only after publish, and
 * at start the forwarder replays from it, so a restart loses nothing.
 */
export class InProcessBus implements EventBus {
  private readonly groups = new Map<string, Group>();
  private closed = false;

  async publish(events: readonly RecordedEvent[], through: bigint): Promise<void> {
    for (const group of this.groups.values()) {
      group.queue.push({ events: [...events], partition: 0, through });
      void this.drain(group);
    }
    // Back-pressure: a stuck or slow consumer holds the forwarder back instead of letting
    // the queue grow without bound (nothing is lost: the forwarder's checkpoint waits too).
    while (!this.closed && [...this.groups.values()].some((group) => group.queue.length > MAX_QUEUED_BATCHES)) {
      await sleep(10);
    }
  }

  async subscribe(options: BusSubscribeOptions): Promise<BusSubscription> {
    let group = this.groups.get(options.group);
    if (!group) {
      group = { queue: [], members: [], draining: false };
      this.groups.set(options.group, group);
    }
    group.members.push(options);
    const joined = group;
    return {
      stop: async () => {
        joined.members = joined.members.filter((member) => member !== options);
      },
    };
  }

  async partitions(): Promise<number> {
    return 1;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async drain(group: Group): Promise<void> {
    if (group.draining) return;
    group.draining = true;
    let failures = 0;
    while (!this.closed && group.queue.length > 0) {
      const member = group.members[0];
      const batch = group.queue[0];
      if (!member || !batch) break;
      try {
        await member.onBatch(batch);
        group.queue.shift();
        failures = 0;
      } catch (error) {
        failures += 1;
        member.onError?.(error);
        await sleep(backoffDelayMs(failures, REDELIVERY_BACKOFF));
      }
    }
    group.draining = false;
  }
}
