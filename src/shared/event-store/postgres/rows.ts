import { z } from 'zod/v4';
import type { EventMetadata, RecordedEvent } from '../port.js';

/** Metadata as stored; parsed on the way out like everything else that comes in. */
export const eventMetadataSchema = z.object({
  actor: z.string().nullable(),
  correlationId: z.string(),
  causationId: z.string().nullable(),
  at: z.string(),
  schemaVersion: z.number().int().positive(),
  idempotencyKey: z.string().optional(),
  hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
}) satisfies z.ZodType<EventMetadata>;

export const eventRowSchema = z.object({
  position: z.bigint(),
  stream_id: z.string(),
  revision: z.bigint(),
  event_id: z.string(),
  type: z.string(),
  data: z.unknown(),
  metadata: eventMetadataSchema,
  recorded_at: z.number(),
});

export const toRecordedEvent = (row: z.infer<typeof eventRowSchema>): RecordedEvent => ({
  id: row.event_id,
  streamId: row.stream_id,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  revision: Number(row.revision),
  position: row.position,
  recordedAt: new Date(row.recorded_at),
});

/** The columns of es_events (as `e`) as the plain `pg` pool reads them (readStream in index.ts). */
export const PLAIN_EVENT_COLUMNS =
  'e.position::text, e.stream_id, e.revision::text, e.event_id::text, e.type, e.data, e.metadata, (extract(epoch from e.recorded_at) * 1000)::float8 as recorded_at';

const fail = (what: string): never => {
  throw new Error(`es_events row read through pg: ${what}`);
};

const HASH = /^[0-9a-f]{64}$/;

/**
 * eventMetadataSchema's check written out (a catch-up reads millions of rows, and zod's
 * object parse was a tenth of the reading): the same fields, the same types, unknown keys
 * dropped, a new object in the schema's key order. Tested against the schema with
 * malformed metadata (tests/unit/event-metadata.test.ts).
 */
export function parseEventMetadata(value: unknown): EventMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('metadata is not an object');
  const { actor, correlationId, causationId, at, schemaVersion, idempotencyKey, hash } = value as Record<string, unknown>;
  if (actor !== null && typeof actor !== 'string') return fail('metadata.actor is not a string or null');
  if (typeof correlationId !== 'string') return fail('metadata.correlationId is not a string');
  if (causationId !== null && typeof causationId !== 'string') return fail('metadata.causationId is not a string or null');
  if (typeof at !== 'string') return fail('metadata.at is not a string');
  if (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion) || schemaVersion <= 0) return fail('metadata.schemaVersion is not a positive integer');
  if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string') return fail('metadata.idempotencyKey is not a string');
  if (hash !== undefined && (typeof hash !== 'string' || !HASH.test(hash))) return fail('metadata.hash is not 64 hex digits');
  const metadata: EventMetadata = { actor, correlationId, causationId, at, schemaVersion };
  if (idempotencyKey !== undefined) metadata.idempotencyKey = idempotencyKey;
  if (hash !== undefined) metadata.hash = hash;
  return metadata;
}

/**
 * A row of PLAIN_EVENT_COLUMNS, checked column by column rather than through eventRowSchema:
 * the columns' types are the table's own (text, uuid, bigint cast to text, float8), so a
 * typeof check is the whole of what zod would check there. What may vary, the JSON, is
 * parsed as before: metadata as eventMetadataSchema says (parseEventMetadata), data by the
 * domain (parseEvent) wherever it is used. See docs/decisions.md, "Stream reads on plain pg".
 */
export const fromPlainRow = (row: Record<string, unknown>): RecordedEvent =>
  plainEvent(row['position'], row['stream_id'], row['revision'], row['event_id'], row['type'], row['data'], row['metadata'], row['recorded_at']);

/** The same, for a row read with `rowMode: 'array'`: PLAIN_EVENT_COLUMNS in their order (no object per row). */
export const fromPlainValues = (values: readonly unknown[]): RecordedEvent =>
  plainEvent(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);

function plainEvent(position: unknown, streamId: unknown, revision: unknown, eventId: unknown, type: unknown, data: unknown, metadata: unknown, recordedAt: unknown): RecordedEvent {
  if (typeof position !== 'string' || typeof revision !== 'string') return fail('position or revision is not int8 text');
  if (typeof streamId !== 'string' || typeof eventId !== 'string' || typeof type !== 'string') return fail('a text column is not text');
  if (typeof recordedAt !== 'number') return fail('recorded_at is not a number');
  return {
    id: eventId,
    streamId,
    type,
    data,
    metadata: parseEventMetadata(metadata),
    revision: Number(revision),
    position: BigInt(position),
    recordedAt: new Date(recordedAt),
  };
}

/** Through slonik int8 arrives as bigint; through plain pg as text: both parse to bigint. */
const int8 = z.union([z.bigint(), z.string().regex(/^-?\d+$/).transform((text) => BigInt(text))]);

export const appendOutcomeSchema = z.object({
  outcome: z.enum(['written', 'duplicate', 'conflict']),
  revision: int8,
  last_position: int8.nullable(),
  /** On a conflict with an exact expected revision through plain pg: the events after it (missedEvents below), rows of PLAIN_EVENT_COLUMNS as JSON. */
  missed: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
});

/**
 * The events a conflict missed, as a JSON array of PLAIN_EVENT_COLUMNS' rows (the same
 * casts, so fromPlainRow reads them): `expected` the expected revision, `stream` the stream (SQL text of parameters).
 * At most MISSED_MAX of them: a caller further behind reads the stream.
 */
const MISSED_MAX = 100;
export const missedEvents = (stream: string, expected: string): string => `(
  select jsonb_agg(jsonb_build_object('position', e.position::text, 'stream_id', e.stream_id, 'revision', e.revision::text,
           'event_id', e.event_id::text, 'type', e.type, 'data', e.data, 'metadata', e.metadata,
           'recorded_at', (extract(epoch from e.recorded_at) * 1000)::float8) order by e.revision)
    from (select * from es_events e where e.stream_id = ${stream} and e.revision > ${expected}
           order by e.revision limit ${MISSED_MAX}) e)`;
