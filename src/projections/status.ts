import type { DatabasePool } from 'slonik';
import type { ForwarderStatus } from './forwarder.js';
import { listStuckStreams, MAILER_STUCK, type StuckStream } from '../shared/read-model/stuck-streams.js';
import { forwarderCheckpoint, type Lag, lagOf, postgresReadModelCheckpoint } from './lag.js';

export interface ProjectionStatus {
  name: string;
  lag: Lag;
}

export interface ClusterStatus {
  /** This process's forwarder, if it runs one: is it the leader now? */
  forwarder: { checkpoint: string; leaderHere: boolean | null; lag: Lag };
  projections: ProjectionStatus[];
  /** Streams the PostgreSQL projector stopped on (the oldest 20). */
  stuckStreams: StuckStream[];
  /** Streams the mailer stopped on (the oldest 20). */
  mailerStuckStreams: StuckStream[];
}

/**
 * Where every subscriber stands against the head of the event store. Checkpoints live in
 * the shared database, so any replica answers for the whole cluster.
 */
export async function clusterStatus(
  pool: DatabasePool,
  local: { forwarder: (() => ForwarderStatus) | null; redisCheckpoint?: () => Promise<bigint | null | undefined> },
): Promise<ClusterStatus> {
  const forwarded = await forwarderCheckpoint(pool);
  const projections: ProjectionStatus[] = [{ name: 'postgres', lag: await lagOf(pool, await postgresReadModelCheckpoint(pool).catch(() => null)) }];
  if (local.redisCheckpoint) {
    const redis = await local.redisCheckpoint();
    if (redis !== undefined) projections.push({ name: 'redis', lag: await lagOf(pool, redis) });
  }
  return {
    forwarder: { checkpoint: (forwarded ?? 0n).toString(), leaderHere: local.forwarder ? local.forwarder().leader : null, lag: await lagOf(pool, forwarded) },
    projections,
    // Before the read model exists (a process that started first) there is nothing stuck.
    stuckStreams: await listStuckStreams(pool, { limit: 20 }).catch(() => []),
    mailerStuckStreams: await listStuckStreams(pool, { schema: MAILER_STUCK, limit: 20 }).catch(() => []),
  };
}
