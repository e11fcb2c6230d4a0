import { z } from 'zod/v4';
import type { RecordedEvent } from '../../shared/event-store/port.js';
import { parseEvent } from '../../shared/events/index.js';
import { REDACTED, SECRET_FIELDS } from '../../shared/events/user.js';

export const auditEntry = z.object({
  type: z.string(),
  data: z.record(z.string(), z.unknown()).describe('In the current shape (old shapes upcast); secret fields blanked'),
  actor: z.object({ id: z.string(), username: z.string().nullable() }).nullable(),
  at: z.string().describe('When the command was made (ISO 8601)'),
  recordedAt: z.string().describe('When the event store recorded it: what from/to filter on'),
  stream: z.string(),
  revision: z.int(),
  position: z.string(),
  correlationId: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

const blanked = (type: string, data: Record<string, unknown>): Record<string, unknown> => {
  const secrets = SECRET_FIELDS[type];
  return secrets ? { ...data, ...Object.fromEntries(secrets.map((field) => [field, REDACTED])) } : data;
};

/** One event as the trail shows it. */
export function toAuditEntry(recorded: RecordedEvent, usernames: ReadonlyMap<string, string>): AuditEntry {
  const { data } = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
  const actor = recorded.metadata.actor;
  return {
    type: recorded.type,
    data: blanked(recorded.type, data as Record<string, unknown>),
    actor: actor === null ? null : { id: actor, username: usernames.get(actor) ?? null },
    at: recorded.metadata.at,
    recordedAt: recorded.recordedAt.toISOString(),
    stream: recorded.streamId,
    revision: recorded.revision,
    position: recorded.position.toString(),
    correlationId: recorded.metadata.correlationId,
  };
}

export const CSV_COLUMNS = ['position', 'recordedAt', 'at', 'stream', 'revision', 'type', 'actorId', 'actorUsername', 'correlationId', 'data'] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
const csvField = (value: string | number | null): string => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const csvLine = (entry: AuditEntry): string =>
  [
    entry.position,
    entry.recordedAt,
    entry.at,
    entry.stream,
    entry.revision,
    entry.type,
    entry.actor?.id ?? null,
    entry.actor?.username ?? null,
    entry.correlationId,
    JSON.stringify(entry.data),
  ]
    .map(csvField)
    .join(',') + '\r\n';
