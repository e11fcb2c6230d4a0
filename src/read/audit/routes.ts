import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FragmentSqlToken } from 'slonik';
import { z } from 'zod/v4';
import { queryInteger } from '../../shared/http/query-integer.js';
import { principalOf } from '../../shared/auth/plugin.js';
import { requireRole } from '../../shared/auth/principal.js';
import type { DatabasePool } from '../../shared/db/pool.js';
import { ValidationFailed } from '../../shared/errors.js';
import { stockroomEventTypes } from '../../shared/events/index.js';
import { readErrors } from '../schemas.js';
import { auditEntry, CSV_COLUMNS, csvLine, toAuditEntry } from './entry.js';
import { type AuditTrailSource, type TrailFilter, usernamesOf } from './trail.js';

export interface AuditRoutesOptions {
  trail: AuditTrailSource;
  pool: DatabasePool;
  users: FragmentSqlToken;
  /** Events read from the store per round trip of an export; 1000 by default. */
  exportPageSize?: number;
}

const eventTypes = [...stockroomEventTypes].sort();

const trailQuery = z.strictObject({
  storeId: z.uuid().optional(),
  skuId: z.uuid().optional(),
  actor: z.uuid().optional().describe('The id of the user who made the change'),
  type: z
    .string()
    .max(1000)
    .optional()
    .transform((text, context) => {
      if (text === undefined) return undefined;
      const types = text.split(',').map((type) => type.trim());
      for (const type of types) {
        if (!stockroomEventTypes.has(type)) context.addIssue({ code: 'custom', message: `${type || '(empty)'} is not an event type (${eventTypes.join(', ')})` });
      }
      return types;
    })
    .describe('Event types, comma-separated'),
  from: z.iso.datetime({ offset: true }).optional().describe('Recorded at or after (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('Recorded before (ISO 8601)'),
  cursor: z.string().regex(/^\d{1,19}$/, 'must be the `next` of an earlier page').optional(),
  limit: queryInteger(z.int().min(1).max(1000)).default(100),
});

type Format = 'json' | 'ndjson' | 'csv';

/** The first of the formats the client accepts, in the order it lists them; JSON pages otherwise. */
const formatOf = (accept: string | undefined): Format => {
  for (const part of (accept ?? '').split(',')) {
    const media = part.split(';')[0]!.trim().toLowerCase();
    if (media === 'application/x-ndjson') return 'ndjson';
    if (media === 'text/csv') return 'csv';
    if (media === 'application/json') return 'json';
  }
  return 'json';
};

/**
 * The audit trail: every event across streams, in position order (manager and auditor).
 * A JSON answer is one keyset page; an ndjson or CSV answer is the whole selection, read a
 * page at a time only as fast as the client takes it.
 */
export const auditRoutes: FastifyPluginAsyncZod<AuditRoutesOptions> = async (app, options) => {
  const { trail, pool, users } = options;
  const exportPageSize = options.exportPageSize ?? 1000;

  app.get(
    '/api/audit/events',
    {
      schema: {
        tags: ['audit'],
        summary:
          'Events across every stream in position order, filtered. Accept: application/x-ndjson or text/csv streams the whole selection, ending with its count',
        querystring: trailQuery,
        response: { 200: z.object({ items: z.array(auditEntry), next: z.string().nullable() }), ...readErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager', 'auditor');
      const query = request.query;
      if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) >= Date.parse(query.to)) {
        throw new ValidationFailed([{ field: 'querystring.to', reason: 'must be after from' }]);
      }
      const filter: TrailFilter = {
        storeId: query.storeId,
        skuId: query.skuId,
        actor: query.actor,
        types: query.type,
        from: query.from === undefined ? undefined : new Date(query.from),
        to: query.to === undefined ? undefined : new Date(query.to),
      };
      const after = BigInt(query.cursor ?? 0);
      const format = formatOf(request.headers.accept);
      if (format !== 'json') {
        const lines = exportLines({ trail, filter, after, pageSize: exportPageSize, format, usernames: (ids) => usernamesOf(pool, users, ids) });
        // A byte stream: it holds about one socket buffer of lines, and when the client goes
        // away fastify destroys it, which ends the generator before its next page is read.
        return reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
          .header('cache-control', 'no-store')
          .send(Readable.from(lines, { objectMode: false }) as never); // a stream: the response schema (JSON pages) does not describe it
      }
      const events = await trail.page(filter, after, query.limit + 1);
      const page = events.slice(0, query.limit);
      const names = await usernamesOf(pool, users, actorsOf(page));
      return {
        items: page.map((event) => toAuditEntry(event, names)),
        next: events.length > query.limit ? page.at(-1)!.position.toString() : null,
      };
    },
  );
};

const actorsOf = (events: readonly { metadata: { actor: string | null } }[]): string[] => [
  ...new Set(events.flatMap((event) => (event.metadata.actor === null ? [] : [event.metadata.actor]))),
];

/**
 * The lines of an export: a CSV header, one line per event, and a last line with the count
 * written, so a reader can tell a complete export from one cut short.
 */
async function* exportLines(input: {
  trail: AuditTrailSource;
  filter: TrailFilter;
  after: bigint;
  pageSize: number;
  format: 'ndjson' | 'csv';
  usernames(ids: readonly string[]): Promise<Map<string, string>>;
}): AsyncGenerator<string> {
  const { trail, filter, pageSize, format } = input;
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after = input.after;
  let count = 0;
  for (;;) {
    const page = await trail.page(filter, after, pageSize);
    if (page.length === 0) break;
    const names = await input.usernames(actorsOf(page));
    // One chunk per page: a write per event would cost more than the events themselves.
    let chunk = '';
    for (const event of page) {
      const entry = toAuditEntry(event, names);
      chunk += format === 'csv' ? csvLine(entry) : `${JSON.stringify(entry)}\n`;
    }
    count += page.length;
    after = page.at(-1)!.position;
    yield chunk;
    if (page.length < pageSize) break;
  }
  yield format === 'csv' ? `#count,${count}\r\n` : `${JSON.stringify({ count, complete: true })}\n`;
}
