import { randomBytes } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { Forwarder } from '../../src/projections/forwarder.js';
import { ensureReadModelSchema } from '../../src/projections/postgres/read-model-schema.js';
import { startPostgresProjector } from '../../src/projections/postgres/run.js';
import type { KafkaBus } from '../../src/shared/event-bus/kafka.js';
import type { BusSubscription } from '../../src/shared/event-bus/port.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { CommandHandler } from '../../src/write/command-handler.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { testBus } from './kafka.js';
import { readModelProjections } from '../../src/projections/postgres/read-model-projections.js';

export const quietLog = { info() {}, warn() {}, error() {} };

/** The whole loop on real services: event store → forwarder → Kafka → PostgreSQL projector. */
export interface Pipeline {
  db: TestDatabase;
  store: PostgresEventStore;
  commands: CommandHandler;
  bus: KafkaBus;
  forwarder: Forwarder;
  group: string;
  projector: BusSubscription | null;
  startProjector(): Promise<BusSubscription>;
  /** Waits until the read model's watermark has reached `position`. */
  reach(position: bigint, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPipeline(label: string, { projector = true } = {}): Promise<Pipeline> {
  const db = await createTestDatabase(label);
  await ensureReadModelSchema(db.url);
  const store = new PostgresEventStore(db.pool);
  const bus = testBus(label);
  await bus.ensureTopic();
  const forwarder = new Forwarder({ store, bus, pool: db.pool, databaseUrl: db.url, log: quietLog, retryMs: 200 });
  forwarder.start();
  const group = `stockroom-test-${label}-${randomBytes(3).toString('hex')}`;
  const pipeline: Pipeline = {
    db,
    store,
    commands: new CommandHandler(store),
    bus,
    forwarder,
    group,
    projector: null,
    async startProjector() {
      pipeline.projector = await startPostgresProjector({ bus, pool: db.pool, store, projections: readModelProjections, log: quietLog, group });
      return pipeline.projector;
    },
    async reach(position, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const through = z
          .bigint()
          .nullable()
          .parse(await db.pool.oneFirst(sql.unsafe`select min(through) from read_model.progress`));
        if (through !== null && through >= position) return;
        if (Date.now() > deadline) throw new Error(`read model stuck at ${through} before ${position}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await pipeline.projector?.stop();
      await forwarder.stop();
      await bus.close();
      await db.drop();
    },
  };
  if (projector) await pipeline.startProjector();
  return pipeline;
}
