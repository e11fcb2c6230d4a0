import type { EventStore, RecordedEvent } from '../../shared/event-store/port.js';
import type { AuditTrailSource, TrailFilter } from './trail.js';

/** The store and SKU a stream belongs to, as es_store_of/es_sku_of read them (migration 007). */
const storeOf = (streamId: string): string | null =>
  streamId.startsWith('stockitem-') ? (streamId.slice(10).split('_')[0] ?? '') : streamId.startsWith('store-') ? streamId.slice(6) : null;
const skuOf = (streamId: string): string | null =>
  streamId.startsWith('stockitem-') ? (streamId.slice(10).split('_')[1] ?? '') : streamId.startsWith('sku-') ? streamId.slice(4) : null;

const matches = (filter: TrailFilter, event: RecordedEvent): boolean =>
  (filter.storeId === undefined || storeOf(event.streamId) === filter.storeId) &&
  (filter.skuId === undefined || skuOf(event.streamId) === filter.skuId) &&
  (filter.actor === undefined || event.metadata.actor === filter.actor) &&
  (filter.types === undefined || filter.types.length === 0 || filter.types.includes(event.type)) &&
  (filter.from === undefined || event.recordedAt >= filter.from) &&
  (filter.to === undefined || event.recordedAt < filter.to);

/**
 * The audit trail of any event store, through the port: $all in position order, filtered
 * here. What KurrentDB serves (EVENT_STORE=eventstoredb): it has no secondary index of
 * ours, so a narrow filter reads the history after `after` until the page is full; the
 * PostgreSQL store keeps its indexed trail (trail.ts). See docs/decisions.md.
 */
export const eventStoreAuditTrail = (store: EventStore, chunk = 1_000): AuditTrailSource => ({
  async page(filter, after, limit) {
    const found: RecordedEvent[] = [];
    for (let cursor = after; ; ) {
      const events = await store.readAll({ after: cursor, maxCount: chunk });
      for (const event of events) {
        if (matches(filter, event)) found.push(event);
        if (found.length === limit) return found;
      }
      if (events.length < chunk) return found;
      cursor = events.at(-1)!.position;
    }
  },
});
