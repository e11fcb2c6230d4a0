import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { KurrentDbEventStore } from '../../src/shared/event-store/kurrentdb/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { type KurrentDbGrpcDouble, startKurrentDbGrpcDouble } from './kurrentdb-grpc-double.js';

/** The KurrentDB adapter against a test double of the server (KurrentDB cannot run here), with a database of its own for the id index. */
export interface KurrentDbOnDouble {
  double: KurrentDbGrpcDouble;
  db: TestDatabase;
  client: KurrentDBClient;
  store: KurrentDbEventStore;
}

export async function startKurrentDbOnDouble(label: string): Promise<KurrentDbOnDouble> {
  const double = await startKurrentDbGrpcDouble();
  const db = await createTestDatabase(label);
  const client = KurrentDBClient.connectionString(double.url);
  return { double, db, client, store: new KurrentDbEventStore(client, db.pool) };
}

export async function stopKurrentDbOnDouble({ client, double, db }: KurrentDbOnDouble): Promise<void> {
  await client.dispose();
  await double.stop();
  await db.drop();
}
