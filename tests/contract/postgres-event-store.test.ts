import { sql } from 'slonik';
import { createAppendPool } from '../../src/shared/db/pool.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../../src/shared/event-store/postgres/index.js';
import { createTestDatabase } from '../support/database.js';
import { eventStoreContract } from './event-store.contract.js';

const contract = (name: string, plainAppend: boolean, options: PostgresEventStoreOptions = {}) => eventStoreContract(name, async () => {
  const db = await createTestDatabase('es_contract');
  const appendPool = plainAppend ? createAppendPool(db.url) : null;
  return {
    store: new PostgresEventStore(db.pool, appendPool, options),
    async beginHeldAppend(streamId, events) {
      let finish!: (commit: boolean) => void;
      let started!: () => void;
      const isStarted = new Promise<void>((resolve) => (started = resolve));
      const decision = new Promise<boolean>((resolve) => (finish = resolve));
      const done = db.pool
        .transaction(async (tx) => {
          await tx.query(sql.unsafe`select * from es_append(${streamId}, -1, ${JSON.stringify(events)}::jsonb)`);
          started();
          if (!(await decision)) throw new Error('rolled back on purpose');
        })
        .catch(() => {});
      await isStarted;
      return {
        commit: async () => (finish(true), done),
        rollback: async () => (finish(false), done),
      };
    },
    close: async () => {
      await appendPool?.end();
      await db.drop();
    },
  };
});

// Production appends through plain pg (main.ts); the slonik path serves everything else.
// Group commit is on by default (one trip at a time: every append that arrives meanwhile
// goes in the next); over four trips the batches are smaller; without it every append goes alone.
contract('PostgreSQL, append through pg', true);
contract('PostgreSQL, append through pg, group commit over four trips', true, { groupCommit: { maxInFlight: 4 } });
contract('PostgreSQL, append through pg, without group commit', true, { groupCommit: false });
contract('PostgreSQL, append through slonik', false);
