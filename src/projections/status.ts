import type { DatabasePool } from 'slonik';
import type { ForwarderStatus } from './forwarder.js';
import { listStuckStreams, type StuckStream } from '../shared/read-model/stuck-streams.js';
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
  };
}

/** A figure beside the cluster status: its value, and what it means when that is not its name. */
export type ExtraGauge = number | { value: number; help: string };

/** Prometheus text format (0.0.4) of the same figures. */
export function metricsText(status: ClusterStatus, extra: Record<string, ExtraGauge> = {}): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
      lines.push(`${name}${text ? `{${text}}` : ''} ${value}`);
    }
  };
  gauge('stockroom_event_store_head_position', 'Highest global position written.', [[{}, Number(status.forwarder.lag.head)]]);
  gauge('stockroom_checkpoint_position', 'Position a subscriber has fully processed.', [
    [{ subscriber: 'forwarder' }, Number(status.forwarder.checkpoint)],
    ...status.projections.map((p): [Record<string, string>, number] => [{ subscriber: `projector-${p.name}` }, Number(p.lag.checkpoint)]),
  ]);
  gauge('stockroom_lag_events', 'Events written after the checkpoint.', [
    [{ subscriber: 'forwarder' }, status.forwarder.lag.events],
    ...status.projections.map((p): [Record<string, string>, number] => [{ subscriber: `projector-${p.name}` }, p.lag.events]),
  ]);
  gauge('stockroom_lag_seconds', 'Age of the oldest event not yet processed.', [
    [{ subscriber: 'forwarder' }, status.forwarder.lag.seconds],
    ...status.projections.map((p): [Record<string, string>, number] => [{ subscriber: `projector-${p.name}` }, p.lag.seconds]),
  ]);
  gauge('stockroom_stuck_streams', 'Streams a projector stopped on at an event it cannot read (the rest goes on).', [
    [{ projection: 'postgres' }, status.stuckStreams.length],
  ]);
  gauge(
    'stockroom_stuck_stream',
    'One per stuck stream, with the event it stopped on.',
    status.stuckStreams.map((stuck): [Record<string, string>, number] => [
      { projection: 'postgres', stream: stuck.streamId, event_id: stuck.eventId, position: stuck.position, type: stuck.type },
      1,
    ]),
  );
  for (const [name, figure] of Object.entries(extra)) {
    if (typeof figure === 'number') gauge(name, name.replaceAll('_', ' '), [[{}, figure]]);
    else gauge(name, figure.help, [[{}, figure.value]]);
  }
  return `${lines.join('\n')}\n`;
}
