import { Gauge, type Registry } from 'prom-client';
import type { ForwarderStatus } from '../projections/forwarder.js';
import type { MailQueueStatus } from '../projections/mailer/queue-status.js';
import type { ClusterStatus } from '../projections/status.js';

/**
 * The cluster status (src/projections/status.ts) as Prometheus gauges, under the names the
 * cluster report, the operations docs and the alerts already use. Set afresh from one
 * status at each scrape: subscribers and stuck streams come and go, so the old series go.
 */
export function clusterStatusGauges(registry: Registry): (status: ClusterStatus) => void {
  const registers = [registry];
  const head = new Gauge({ name: 'stockroom_event_store_head_position', help: 'Highest global position written.', registers });
  const checkpoint = new Gauge({ name: 'stockroom_checkpoint_position', help: 'Position a subscriber has fully processed.', labelNames: ['subscriber'], registers });
  const lagEvents = new Gauge({ name: 'stockroom_lag_events', help: 'Events written after the checkpoint.', labelNames: ['subscriber'], registers });
  const lagSeconds = new Gauge({ name: 'stockroom_lag_seconds', help: 'Age of the oldest event not yet processed.', labelNames: ['subscriber'], registers });
  const stuckCount = new Gauge({
    name: 'stockroom_stuck_streams',
    help: 'Streams a projector stopped on at an event it cannot read (the rest goes on).',
    labelNames: ['projection'],
    registers,
  });
  const stuck = new Gauge({
    name: 'stockroom_stuck_stream',
    help: 'One per stuck stream, with the event it stopped on.',
    labelNames: ['projection', 'stream', 'event_id', 'position', 'type'],
    registers,
  });
  return (status) => {
    for (const gauge of [checkpoint, lagEvents, lagSeconds, stuckCount, stuck]) gauge.reset();
    head.set(Number(status.forwarder.lag.head));
    const subscribers = [
      { subscriber: 'forwarder', checkpoint: status.forwarder.checkpoint, lag: status.forwarder.lag },
      ...status.projections.map((p) => ({ subscriber: `projector-${p.name}`, checkpoint: p.lag.checkpoint, lag: p.lag })),
    ];
    for (const { subscriber, checkpoint: position, lag } of subscribers) {
      checkpoint.set({ subscriber }, Number(position));
      lagEvents.set({ subscriber }, lag.events);
      lagSeconds.set({ subscriber }, lag.seconds);
    }
    for (const [projection, streams] of [['postgres', status.stuckStreams], ['mailer', status.mailerStuckStreams]] as const) {
      stuckCount.set({ projection }, streams.length);
      for (const s of streams) stuck.set({ projection, stream: s.streamId, event_id: s.eventId, position: s.position, type: s.type }, 1);
    }
  };
}

const secondsSince = (time: number, now: number) => Math.max(0, Math.round((now - time) / 100) / 10);

/**
 * What alerts need beyond the checkpoints: the mail queue (the outbox in PostgreSQL, so the
 * same from every process) and, on a process running the forwarder, its lead and how long
 * it has waited on a hole held by an open append transaction.
 */
export function operationsGauges(registry: Registry): (figures: { mail: MailQueueStatus; forwarder: ForwarderStatus | null; now?: number }) => void {
  const registers = [registry];
  const pending = new Gauge({ name: 'stockroom_mail_queue_pending', help: 'Mails formed and not sent yet.', registers });
  const failing = new Gauge({ name: 'stockroom_mail_queue_failing', help: 'Of those, mails that failed at least once (SMTP down or refusing).', registers });
  const oldest = new Gauge({ name: 'stockroom_mail_queue_oldest_seconds', help: 'Age of the oldest mail not sent yet; 0 when none waits.', registers });
  const leader = new Gauge({ name: 'stockroom_forwarder_leader', help: 'Whether this process holds the forwarder lead.', registers });
  const gapWait = new Gauge({
    name: 'stockroom_forwarder_gap_wait_seconds',
    help: 'How long the forwarder has waited on a hole held by an open append transaction; 0 when it waits on none.',
    registers,
  });
  return ({ mail, forwarder, now = Date.now() }) => {
    pending.set(mail.pending);
    failing.set(mail.failing);
    oldest.set(mail.oldestPendingAt === null ? 0 : secondsSince(Date.parse(mail.oldestPendingAt), now));
    // Only a process running the forwarder knows these: elsewhere they are left out.
    for (const gauge of [leader, gapWait]) gauge.reset();
    if (forwarder) {
      leader.set(forwarder.leader ? 1 : 0);
      gapWait.set(forwarder.gapWait ? secondsSince(forwarder.gapWait.since.getTime(), now) : 0);
    }
  };
}
