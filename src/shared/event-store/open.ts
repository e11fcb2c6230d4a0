import type pg from 'pg';
import type { Config } from '../config.js';
import type { DatabasePool } from '../db/pool.js';
import { connectKurrentDb, type KurrentDbWait } from './kurrentdb/connect.js';
import { KurrentDbEventStore } from './kurrentdb/index.js';
import type { EventStore } from './port.js';
import { PostgresEventStore } from './postgres/index.js';

export interface OpenedEventStore {
  store: EventStore;
  kind: Config['EVENT_STORE'];
  close(): Promise<void>;
}

/**
 * The event store EVENT_STORE names: PostgreSQL (the pool's database), or KurrentDB at
 * EVENTSTOREDB_URL, waited for until it answers (`onWait` hears each wait). The read
 * models, checkpoints and KurrentDB's index of event ids stay in PostgreSQL either way.
 */
export async function openEventStore(
  config: Pick<Config, 'EVENT_STORE' | 'EVENTSTOREDB_URL'>,
  pool: DatabasePool,
  options: { appendPool?: pg.Pool | null; onWait?(wait: KurrentDbWait): void; signal?: AbortSignal } = {},
): Promise<OpenedEventStore> {
  if (config.EVENT_STORE === 'postgres') {
    return { store: new PostgresEventStore(pool, options.appendPool ?? null), kind: 'postgres', close: async () => {} };
  }
  // The config refuses eventstoredb without a URL that parses (config.ts).
  const client = await connectKurrentDb(config.EVENTSTOREDB_URL!, {
    ...(options.onWait ? { onWait: options.onWait } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { store: new KurrentDbEventStore(client, pool), kind: 'eventstoredb', close: () => client.dispose() };
}
