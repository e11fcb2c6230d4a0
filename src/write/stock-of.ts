import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';
import { stockItems } from './aggregates.js';
import type { CommandHandler } from './command-handler.js';
import type { StockLeft } from './stock-remains.js';

/**
 * The stock items of a store or of a SKU, read from their streams (not the read model,
 * which may trail): a close or delete decides on what the event store holds. Stream names
 * are `stockitem-<storeId>_<skuId>` (src/shared/streams.ts); the scan of es_streams is fine
 * for commands this rare. On KurrentDB es_streams is empty: the stream names come from its
 * index of event ids (migration 019), which holds every stream written there.
 */
const streamIds = z.array(z.string());

async function stockOf(pool: DatabasePool, commands: CommandHandler, pattern: string): Promise<StockLeft[]> {
  const streams = streamIds.parse(await pool.anyFirst(sql.unsafe`
    select stream_id from es_streams where stream_id like ${pattern}
    union select distinct stream_id from kurrentdb_event_ids where stream_id like ${pattern}`));
  const items: StockLeft[] = [];
  for (const stream of streams) {
    const { state } = await commands.load(stockItems, stream);
    if (state.status === 'present') items.push({ storeId: state.storeId, skuId: state.skuId, quantity: state.quantity });
  }
  return items;
}

export const stockOfStore = (pool: DatabasePool, commands: CommandHandler, storeId: string) => stockOf(pool, commands, `stockitem-${storeId}\\_%`);
export const stockOfSku = (pool: DatabasePool, commands: CommandHandler, skuId: string) => stockOf(pool, commands, `stockitem-%\\_${skuId}`);
