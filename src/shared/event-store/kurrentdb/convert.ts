import type { ResolvedEvent } from '@kurrent/kurrentdb-client';
import { z } from 'zod/v4';
import type { RecordedEvent } from '../port.js';
import { eventMetadataSchema } from '../postgres/rows.js';

/** The server's "no position" (u64 max): a stream read from a server that keeps none there. */
const NO_POSITION = 2n ** 64n - 1n;

const recordedSchema = z.object({
  id: z.string(),
  streamId: z.string(),
  type: z.string(),
  revision: z.bigint().nonnegative(),
  created: z.date(),
  isJson: z.literal(true),
  data: z.unknown(),
  metadata: eventMetadataSchema,
  position: z.object({ commit: z.bigint(), prepare: z.bigint() }).optional(),
});

export class UnreadableEvent extends Error {
  constructor(readonly where: string, readonly reason: string) {
    super(`KurrentDB event ${where} does not parse: ${reason}`);
    this.name = 'UnreadableEvent';
  }
}

/**
 * A resolved event of the client as the port's event, parsed like everything that comes in.
 * The port's position is the event's commit position in $all (each event has one of its own).
 */
export function toRecordedEvent(resolved: ResolvedEvent): RecordedEvent {
  const raw = resolved.event;
  if (!raw) throw new UnreadableEvent('(link without event)', 'a resolved event without its event');
  const parsed = recordedSchema.safeParse(raw);
  if (!parsed.success) throw new UnreadableEvent(`${raw.streamId}@${raw.revision}`, z.prettifyError(parsed.error));
  const event = parsed.data;
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined || position === NO_POSITION) {
    throw new UnreadableEvent(`${event.streamId}@${event.revision}`, 'the server sent no $all position with it (KurrentDB 22.10 or later sends one on stream reads)');
  }
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    revision: Number(event.revision),
    position,
    recordedAt: event.created,
  };
}

/** System events ($stats, $metadata, projections' output) are the server's, never ours. */
export const isSystemEvent = (resolved: ResolvedEvent): boolean =>
  !resolved.event || resolved.event.type.startsWith('$') || resolved.event.streamId.startsWith('$');
