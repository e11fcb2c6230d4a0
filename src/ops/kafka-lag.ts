import { type Admin, Kafka, logLevel } from 'kafkajs';
import { z } from 'zod/v4';

/**
 * An admin client for the cluster report, on its own connection: one attempt, short
 * timeouts, no retries and no log, so that a broker that is away is reported, not waited for.
 */
export function reportAdmin(brokers: readonly string[], timeoutMs: number): Admin {
  return new Kafka({
    clientId: 'stockroom-cluster-report',
    brokers: [...brokers],
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
}

export const partitionLagView = z.object({
  partition: z.int(),
  committedOffset: z.string().nullable().describe('The next offset the group will read; null when it never committed on this partition'),
  endOffset: z.string().describe('The offset the next message will get'),
  lag: z.int().describe('Messages (events and watermarks) the group has not processed'),
});
export const groupLagView = z.object({
  group: z.string(),
  lag: z.int().describe('Summed over the partitions'),
  partitions: z.array(partitionLagView),
});
export type GroupLagView = z.infer<typeof groupLagView>;

/** Other groups shown at most, and looked into at most: test runs on a shared broker leave many. */
const MAX_OTHER_GROUPS = 50;
const MAX_GROUPS_LOOKED_INTO = 1_000;

/**
 * Consumer lag on `topic` of the `known` groups (always shown, even before they first
 * commit) and of every other `stockroom-*` group that has committed on it.
 */
export async function consumerLag(admin: Admin, topic: string, known: readonly string[]): Promise<GroupLagView[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const listed = (await admin.listGroups()).groups.map((group) => group.groupId);
  // The cap counts groups that committed on this topic: many groups of other topics must not hide them.
  const others = listed.filter((group) => group.startsWith('stockroom-') && !known.includes(group)).sort().slice(0, MAX_GROUPS_LOOKED_INTO);
  const lags: GroupLagView[] = [];
  for (const group of [...known, ...others]) {
    if (lags.length >= known.length + MAX_OTHER_GROUPS) break;
    const committed = new Map(
      (await admin.fetchOffsets({ groupId: group, topics: [topic] }))
        .flatMap((entry) => entry.partitions)
        .map((partition) => [partition.partition, BigInt(partition.offset)] as const),
    );
    const neverCommitted = [...committed.values()].every((offset) => offset < 0n);
    if (neverCommitted && !known.includes(group)) continue;
    const partitions = ends
      .map((end) => {
        const offset = committed.get(end.partition) ?? -1n;
        const from = offset >= 0n ? offset : BigInt(end.low);
        return {
          partition: end.partition,
          committedOffset: offset >= 0n ? offset.toString() : null,
          endOffset: end.high,
          lag: Number(BigInt(end.high) - from),
        };
      })
      .sort((a, b) => a.partition - b.partition);
    lags.push({ group, lag: partitions.reduce((sum, p) => sum + p.lag, 0), partitions });
  }
  return lags;
}
