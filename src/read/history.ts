import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { queryInteger } from '../shared/http/query-integer.js';
import { principalOf } from '../shared/auth/plugin.js';
import { requireStoreReadAccess } from '../shared/auth/principal.js';
import { NotFound } from '../shared/errors.js';
import type { EventStore, RecordedEvent } from '../shared/event-store/port.js';
import { parseEvent } from '../shared/events/index.js';
import { stockItemStream } from '../shared/streams.js';
import { itemParams } from '../shared/http/contract.js';
import { readErrors } from './schemas.js';

/**
 * Where the history of one stream comes from: the event store itself, the source of
 * truth, so a history is never behind and needs no read model (nor a write role).
 */
export interface StreamHistorySource {
  /** Up to `maxCount` events of the stream from `fromRevision` on, in revision order. */
  page(streamId: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]>;
}

export const streamHistory = (store: Pick<EventStore, 'readStream'>): StreamHistorySource => ({
  page: (streamId, fromRevision, maxCount) => store.readStream(streamId, { fromRevision, maxCount }),
});

export const historyEntry = z.object({
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  actor: z.string().nullable(),
  at: z.string(),
  reason: z.string().optional(),
  note: z.string().nullable().optional(),
  correlationId: z.string(),
  revision: z.int(),
  position: z.string(),
});

/** One stored event as the API shows it: in the current shape (upcast), with who, when and why. */
export function toHistoryEntry(recorded: RecordedEvent): z.infer<typeof historyEntry> {
  const { data } = parseEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
  const fields = data as Record<string, unknown>;
  return {
    type: recorded.type,
    data: fields,
    actor: recorded.metadata.actor,
    at: recorded.metadata.at,
    ...(typeof fields.reason === 'string' ? { reason: fields.reason } : {}),
    ...('note' in fields ? { note: (fields.note as string | null) ?? null } : {}),
    correlationId: recorded.metadata.correlationId,
    revision: recorded.revision,
    position: recorded.position.toString(),
  };
}

export const historyRoutes: FastifyPluginAsyncZod<{ history: StreamHistorySource }> = async (app, { history }) => {
  app.get(
    '/api/inventory/stores/:storeId/items/:skuId/history',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Every event of one stock item, oldest first: who, when, why (read from the event store)',
        params: itemParams,
        querystring: z.strictObject({
          limit: queryInteger(z.int().min(1).max(1000)).default(200),
          cursor: z.string().regex(/^\d{1,15}$/, 'must be the `next` of an earlier page').optional(),
        }),
        response: { 200: z.object({ items: z.array(historyEntry), next: z.string().nullable() }), ...readErrors },
      },
    },
    async (request) => {
      const { storeId, skuId } = request.params;
      requireStoreReadAccess(principalOf(request), storeId);
      const { limit, cursor } = request.query;
      // One more than asked tells whether another page follows.
      const events = await history.page(stockItemStream(storeId, skuId), Number(cursor ?? 0), limit + 1);
      if (events.length === 0 && cursor === undefined) throw new NotFound('stock item', `${storeId}/${skuId}`);
      const page = events.slice(0, limit);
      return {
        items: page.map(toHistoryEntry),
        next: events.length > limit ? String(page.at(-1)!.revision + 1) : null,
      };
    },
  );
};
