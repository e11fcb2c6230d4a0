import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { KurrentDbEventStore } from '../../src/shared/event-store/kurrentdb/index.js';
import { createTestDatabase } from '../support/database.js';
import { startKurrentDbGrpcDouble } from '../support/kurrentdb-grpc-double.js';
import { eventStoreContract } from './event-store.contract.js';

// The same contract as the PostgreSQL store. No beginHeldAppend: KurrentDB assigns
// positions at commit, so an append cannot hold an earlier position open.
eventStoreContract('KurrentDB, against the gRPC test double', async () => {
  const double = await startKurrentDbGrpcDouble();
  const db = await createTestDatabase('es_kurrent');
  const client = KurrentDBClient.connectionString(double.url);
  return {
    store: new KurrentDbEventStore(client, db.pool),
    close: async () => {
      await client.dispose();
      await double.stop();
      await db.drop();
    },
  };
});

const realServer = process.env.KURRENTDB_URL;
if (realServer) {
  eventStoreContract(`KurrentDB, against the server at ${realServer}`, async () => {
    const db = await createTestDatabase('es_kurrent_real');
    const client = KurrentDBClient.connectionString(realServer);
    return {
      store: new KurrentDbEventStore(client, db.pool),
      close: async () => {
        await client.dispose();
        await db.drop();
      },
    };
  });
} else {
  console.log('skipped: the event store contract against a real KurrentDB, because KURRENTDB_URL is not set (e.g. KURRENTDB_URL=esdb://127.0.0.1:2113?tls=false)');
}
