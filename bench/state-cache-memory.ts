/**
 * What a full state cache weighs: 100,000 stock items go through a StateCache of 50,000
 * streams (the handler's default) and the heap after a full collection is compared with
 * the heap before. Not a section of `npm run bench` (it needs --expose-gc):
 *
 *   node --expose-gc --import tsx bench/state-cache-memory.ts
 */
import { chainSeed } from '../src/shared/event-store/chain.js';
import { newId } from '../src/shared/ids.js';
import { StateCache } from '../src/write/state-cache.js';
import { stockItemStream } from '../src/write/streams.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with node --expose-gc --import tsx bench/state-cache-memory.ts');

/** Every string a cached stock item holds is its own, as when read from the store. */
function fill(cache: StateCache, items: number): void {
  for (let index = 0; index < items; index += 1) {
    const storeId = newId();
    const skuId = newId();
    const stream = stockItemStream(storeId, skuId);
    const state = { status: 'present', storeId, skuId, quantity: index, lowStockThreshold: 5 };
    cache.remember(stream, { state, revision: index, position: BigInt(index * 7), hash: chainSeed(stream) });
  }
}

const STREAMS = 50_000;
fill(new StateCache(), 1_000);
collect();
collect();
const before = process.memoryUsage();
const cache = new StateCache(STREAMS);
fill(cache, STREAMS * 2);
collect();
collect();
const after = process.memoryUsage();
const heap = after.heapUsed - before.heapUsed;
console.log(
  `a full cache of ${STREAMS.toLocaleString('en-US')} stock items: ${(heap / 2 ** 20).toFixed(1)} MiB of heap, ` +
    `${Math.round(heap / STREAMS)} bytes per stream (RSS grew ${((after.rss - before.rss) / 2 ** 20).toFixed(1)} MiB, garbage of the evictions included)`,
);
void cache;
