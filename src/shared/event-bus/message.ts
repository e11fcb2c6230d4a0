import { z } from 'zod/v4';
import type { RecordedEvent } from '../event-store/port.js';
import { eventMetadataSchema } from '../event-store/postgres/rows.js';
import { REDACTED, SECRET_FIELDS } from '../events/user.js';

/**
 * An event on the wire: JSON whose bigints travel as decimal strings, so that any client
 * (kcat, a Java consumer) reads them without losing precision.
 */
export const wireEventSchema = z.object({
  id: z.uuid(),
  streamId: z.string().min(1),
  type: z.string().min(1),
  data: z.unknown(),
  metadata: eventMetadataSchema,
  revision: z.int().nonnegative(),
  position: z.string().regex(/^\d+$/),
  recordedAt: z.iso.datetime({ offset: true }),
});

/** The event's data with its secret fields blanked (the schema still holds: a non-empty string). */
const publicData = (event: RecordedEvent): unknown => {
  const secrets = SECRET_FIELDS[event.type];
  if (!secrets || typeof event.data !== 'object' || event.data === null) return event.data;
  return { ...event.data, ...Object.fromEntries(secrets.map((field) => [field, REDACTED])) };
};

export const toWire = (event: RecordedEvent): string =>
  JSON.stringify({
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: publicData(event),
    metadata: event.metadata,
    revision: event.revision,
    position: event.position.toString(),
    recordedAt: event.recordedAt.toISOString(),
  });

export const fromWire = (text: string): RecordedEvent => {
  const wire = wireEventSchema.parse(JSON.parse(text));
  return { ...wire, position: BigInt(wire.position), recordedAt: new Date(wire.recordedAt) };
};

/** Headers every event message carries, for consumers that route without parsing the body. */
export const eventHeaders = (event: RecordedEvent): Record<string, string> => ({
  'event-id': event.id,
  'event-type': event.type,
  'stream-id': event.streamId,
  revision: String(event.revision),
  position: event.position.toString(),
  'correlation-id': event.metadata.correlationId,
});

/** A watermark message: no event, only "everything up to `position` was published before me". */
export const WATERMARK_TYPE = '$watermark';
