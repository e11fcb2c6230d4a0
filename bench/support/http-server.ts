/**
 * One HTTP server in a process of its own, started by bench/support/http.ts: autocannon
 * in the bench process and the server never share an event loop, as in production where
 * the clients are elsewhere.
 *
 *   {"kind":"app","databaseUrl":...,"roles":"write-api"}  buildApp(...) from src/app.ts, with
 *       Redis (createRedis, as main.ts does for REDIS_URL) when "redis" is given
 *   {"kind":"empty"}                                        the baseline: GET /empty on a
 *       fastify instance configured like buildApp's (logger off, same request-id options,
 *       same body limit, the zod validator and serializer compilers), nothing else
 *   {"kind":"classic",...}                                  the peers a user would write
 *       instead of Stockroom, on Stockroom's own URLs (bench/support/classic-server.ts)
 *
 * It listens on 127.0.0.1, a free port, sends {port} to the parent over IPC, answers
 * "stats" with {stats: {conflicts, trips, appends}} (appends of the app that lost a race to another
 * process, counted around its event store; its group commit's trips and the appends they carried), "memory" with {memory} (process.memoryUsage()
 * after a full GC), and closes on "stop" (or when the parent
 * goes away).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Fastify, { LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { buildApp } from '../../src/app.js';
import { createAppendPool, createDatabasePool } from '../../src/shared/db/pool.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../../src/shared/event-store/postgres/index.js';
import { newId } from '../../src/shared/ids.js';
import { createRedis } from '../../src/shared/redis.js';
import { type AppendResult, type EventToAppend, type ExpectedRevision, WrongExpectedRevision } from '../../src/shared/event-store/port.js';
import { classicServer, classicSpec } from './classic-server.js';
import { benchConfig, JWT_SECRET } from './stockroom.js';
import { groupCommitExtraTrips } from './config.js';

export const serverSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('empty') }),
  z.object({
    kind: z.literal('app'),
    databaseUrl: z.string(),
    roles: z.string(),
    /** Redis as main.ts wires it from REDIS_URL (hot read model, denylist copy), under the bench's own prefix. */
    redis: z.object({ url: z.string(), keyPrefix: z.string() }).optional(),
    /** Connections of each of its two pools (slonik's, the append pool); the app's 20 unless told. */
    poolSize: z.int().positive().optional(),
  }),
  classicSpec,
]);
export type ServerSpec = z.infer<typeof serverSpec>;

async function emptyServer() {
  const app = Fastify({
    logger: false,
    requestIdHeader: 'x-correlation-id',
    logController: new LogController({ requestIdLogLabel: 'correlationId' }),
    genReqId: () => newId(),
    bodyLimit: 64 * 1024,
    trustProxy: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.get('/empty', async () => ({}));
  // The empty route at the point read's URL (its two parameters routed, nothing read or checked).
  app.get('/api/inventory/stores/:storeId/items/:skuId', async () => ({}));
  return { app, close: async () => {} };
}

/** What the parent may ask a server process about its run so far (trips and appends: its group commit's, 0 without). */
const stats = { conflicts: 0, trips: 0, appends: 0 };
let groupCommitStats: () => { trips: number; appends: number } | null = () => null;

/** The app's event store, counting the appends that lost to another writer (the handler then decides again). */
class CountingEventStore extends PostgresEventStore {
  override async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    try {
      return await super.append(streamId, events, expected);
    } catch (error) {
      if (error instanceof WrongExpectedRevision) stats.conflicts += 1;
      throw error;
    }
  }
}

/**
 * Group commit of the app's appends, as the app runs it unless BENCH_GROUP_COMMIT says
 * `off` (one es_append per append, for an A/B in one run of this cell) or a number of trips.
 */
const groupCommit = (): PostgresEventStoreOptions['groupCommit'] => {
  const raw = (process.env.BENCH_GROUP_COMMIT ?? '').trim().toLowerCase();
  if (raw === '') return {};
  if (raw === 'off') return false;
  const trips = Number(raw);
  if (!Number.isInteger(trips) || trips < 1) throw new Error(`BENCH_GROUP_COMMIT must be off or a number of trips, not ${raw}`);
  const extra = groupCommitExtraTrips();
  return extra === null ? { maxInFlight: trips } : { maxInFlight: trips, extraTrips: extra };
};

async function appServer(spec: Extract<ServerSpec, { kind: 'app' }>) {
  const pool = await createDatabasePool(spec.databaseUrl, spec.poolSize === undefined ? {} : { maximumPoolSize: spec.poolSize });
  const appendPool = createAppendPool(spec.databaseUrl, spec.poolSize);
  const eventStore = new CountingEventStore(pool, appendPool, { groupCommit: groupCommit() });
  groupCommitStats = () => eventStore.groupCommitStats;
  const redis = spec.redis ? createRedis(spec.redis.url, { keyPrefix: spec.redis.keyPrefix }) : null;
  const app = await buildApp({ config: benchConfig(spec.roles), pool, eventStore, jwtSecret: JWT_SECRET, logger: false, databaseUrl: spec.databaseUrl, redis, plainPool: appendPool });
  return {
    app,
    close: async () => {
      redis?.disconnect();
      await appendPool.end();
      await pool.end();
    },
  };
}

/** A full GC first (V8's gc made reachable without --expose-gc on the command line), then process.memoryUsage(). */
function memoryAfterGc(): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('V8 gave no gc function');
  gc();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

async function main(): Promise<void> {
  const spec = serverSpec.parse(JSON.parse(process.env.BENCH_SERVER ?? 'null'));
  const { app, close } = spec.kind === 'empty' ? await emptyServer() : spec.kind === 'classic' ? await classicServer(spec) : await appServer(spec);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close().catch(() => {});
    await close().catch(() => {});
    process.exit(0);
  };
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    if (message === 'stats') process.send?.({ stats: { ...stats, ...(groupCommitStats() ?? {}) } });
    if (message === 'memory') process.send?.({ memory: memoryAfterGc() });
  });
  process.on('disconnect', () => void stop());
  process.send?.({ port: address.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
