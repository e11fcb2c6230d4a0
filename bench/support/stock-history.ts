import { newId } from '../../src/shared/ids.js';
import { skuStream, stockItemStream, storeStream } from '../../src/write/streams.js';
import { copyField } from './copy.js';

/**
 * A made-up but valid history of Stockroom, as the write side would have recorded it:
 * stores opened, SKUs created, every SKU added to every store (StockItemAdded), then stock
 * adjustments to random items (StockAdjusted with a correct quantityAfter; sales never take
 * the quantity below zero). Ids are UUID v7 like the app's, metadata is the app's envelope.
 *
 * Rows come out in position order in COPY text format for
 * `es_events (stream_id, revision, event_id, type, data, metadata, recorded_at)`; the
 * positions are drawn by the table's identity, so the n-th row gets position n in a fresh
 * database. No reservation or user streams: the projector skips the former, and the
 * latter are a handful.
 */
export interface HistoryShape {
  stores: number;
  skus: number;
  /** Every event: openings, creations, additions, then adjustments up to this count. */
  events: number;
  /** Days the history is spread over, ending now (30 unless told). */
  spanDays?: number;
  /** Share of items added at or below their threshold (0 unless told), so low-stock filters find some. */
  lowStockShare?: number;
}

export interface StockHistory {
  shape: HistoryShape;
  storeIds: string[];
  skuIds: string[];
  /** Every stock item (store × SKU), with its stream. */
  items: { storeId: string; skuId: string; stream: string }[];
  /** COPY text chunks of `rowsPerChunk` events each, in position order; to be consumed once. */
  chunks(rowsPerChunk: number): Generator<string>;
  /** Each stream with its last revision, once `chunks` has been consumed. */
  streamRevisions(): { stream: string; revision: number }[];
  /** The units over every item at the end, once `chunks` has been consumed: what the read model must show. */
  totalQuantity(): number;
}

export const ES_EVENTS_COPY = 'copy es_events (stream_id, revision, event_id, type, data, metadata, recorded_at) from stdin';

const ACTORS = Array.from({ length: 20 }, () => newId());
const REASONS = ['sold', 'received', 'damaged', 'returned', 'correction'] as const;

/** A small, fast, seeded generator: the same shape gives the same history. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function stockHistory(shape: HistoryShape): StockHistory {
  const storeIds = Array.from({ length: shape.stores }, () => newId());
  const skuIds = Array.from({ length: shape.skus }, () => newId());
  const items = storeIds.flatMap((storeId) => skuIds.map((skuId) => ({ storeId, skuId, stream: stockItemStream(storeId, skuId) })));
  const quantities = new Int32Array(items.length);
  const revisions = new Int32Array(items.length).fill(-1);
  let consumed = false;

  function* chunks(rowsPerChunk: number): Generator<string> {
    if (consumed) throw new Error('a history is generated once');
    consumed = true;
    const random = mulberry32(shape.events ^ 0x5eed);
    // Thirty days of activity unless told, ending now.
    const spanMs = (shape.spanDays ?? 30) * 24 * 3600 * 1000;
    const startMs = Date.now() - spanMs;
    let index = 0;
    let lines: string[] = [];
    const row = (stream: string, revision: number, type: string, data: unknown, actor: string | null): string | null => {
      const at = new Date(startMs + Math.floor((index / shape.events) * spanMs)).toISOString();
      index += 1;
      const metadata = { actor, correlationId: newId(), causationId: null, at, schemaVersion: 1 };
      lines.push(
        `${copyField(stream)}\t${revision}\t${newId()}\t${type}\t${copyField(JSON.stringify(data))}\t${copyField(JSON.stringify(metadata))}\t${at}`,
      );
      if (lines.length < rowsPerChunk) return null;
      const chunk = `${lines.join('\n')}\n`;
      lines = [];
      return chunk;
    };
    const manager = ACTORS[0] ?? null;
    for (const [position, storeId] of storeIds.entries()) {
      const chunk = row(storeStream(storeId), 0, 'StoreOpened', { storeId, name: `Store ${position + 1}`, code: `S${String(position + 1).padStart(3, '0')}`, address: null }, manager);
      if (chunk) yield chunk;
    }
    for (const [position, skuId] of skuIds.entries()) {
      const data = {
        skuId,
        code: `SKU-${String(position + 1).padStart(6, '0')}`,
        name: `Article ${position + 1}`,
        category: ['tea', 'coffee', 'snacks', 'household', null][position % 5] ?? null,
        unit: 'pcs',
        price: `${1 + (position % 50)}.${String(position % 100).padStart(2, '0')}`,
        lowStockThreshold: 5,
      };
      const chunk = row(skuStream(skuId), 0, 'SkuCreated', data, manager);
      if (chunk) yield chunk;
    }
    for (const [position, item] of items.entries()) {
      const low = shape.lowStockShare !== undefined && random() < shape.lowStockShare;
      const quantity = low ? Math.floor(random() * 6) : 20 + Math.floor(random() * 200);
      quantities[position] = quantity;
      revisions[position] = 0;
      const chunk = row(item.stream, 0, 'StockItemAdded', { storeId: item.storeId, skuId: item.skuId, quantity, lowStockThreshold: 5 }, manager);
      if (chunk) yield chunk;
    }
    while (index < shape.events) {
      const position = Math.floor(random() * items.length);
      const item = items[position]!;
      const quantity = quantities[position] ?? 0;
      let reason: (typeof REASONS)[number] = REASONS[Math.min(REASONS.length - 1, Math.floor(random() * random() * 6))] ?? 'sold';
      let delta: number;
      if (reason === 'sold' || reason === 'damaged') {
        delta = -(1 + Math.floor(random() * (reason === 'sold' ? 5 : 2)));
        if (quantity + delta < 0) {
          reason = 'received';
          delta = 24 + Math.floor(random() * 96);
        }
      } else if (reason === 'received') {
        delta = 24 + Math.floor(random() * 96);
      } else if (reason === 'returned') {
        delta = 1;
      } else {
        delta = quantity > 3 && random() < 0.5 ? -1 - Math.floor(random() * 3) : 1 + Math.floor(random() * 3);
      }
      const quantityAfter = quantity + delta;
      quantities[position] = quantityAfter;
      const revision = (revisions[position] ?? 0) + 1;
      revisions[position] = revision;
      const actor = ACTORS[1 + Math.floor(random() * (ACTORS.length - 1))] ?? null;
      const chunk = row(item.stream, revision, 'StockAdjusted', { delta, reason, note: reason === 'correction' ? 'shelf count' : null, quantityAfter }, actor);
      if (chunk) yield chunk;
    }
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }

  return {
    shape,
    storeIds,
    skuIds,
    items,
    chunks,
    streamRevisions: () => [
      ...storeIds.map((id) => ({ stream: storeStream(id), revision: 0 })),
      ...skuIds.map((id) => ({ stream: skuStream(id), revision: 0 })),
      ...items.map((item, position) => ({ stream: item.stream, revision: revisions[position] ?? -1 })),
    ],
    totalQuantity: () => quantities.reduce((sum, quantity) => sum + quantity, 0),
  };
}

/** The shape for a number of events: 10 stores × 1,000 SKUs, fewer SKUs when the history is short. */
export function historyShape(events: number): HistoryShape {
  const stores = 10;
  const skus = Math.max(1, Math.min(1_000, Math.floor(events / (stores * 10))));
  return { stores, skus, events: Math.max(events, stores + skus + stores * skus) };
}

/**
 * `rows` rows of the read model's `stock` columns in COPY text format, `rowsPerChunk` per
 * chunk: the baseline copies what the projector's output looks like, without the work.
 */
export function* stockRowChunks(rows: number, rowsPerChunk: number): Generator<string> {
  const storeId = newId();
  const updatedAt = new Date().toISOString();
  let lines: string[] = [];
  for (let index = 0; index < rows; index += 1) {
    lines.push(`${storeId}\t${newId()}\t${index % 500}\t5\tf\t${index % 100}\t${index + 1}\t${updatedAt}`);
    if (lines.length === rowsPerChunk) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}
