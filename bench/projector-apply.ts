/**
 * The live PostgreSQL projector alone: 300 batches of one stock adjustment each, applied one
 * after another on a fresh database, wall time of each applyBatch (p50/p90/p99). What the
 * freshness section's "apply: a batch with events" measures, without Kafka or HTTP around
 * it. Takes the source tree to import as its argument (default: this one), so that two
 * commits exported side by side (`git archive`) can be run alternately on a busy host:
 *
 *   npx tsx bench/projector-apply.ts [/path/to/another/tree]
 *
 * Also prints the CPU per batch of the projector: this process's time inside applyBatch,
 * and its connection's backend (a pool of one of its own, read from /proc when the server
 * runs here), steadier than wall time when the host is shared.
 * BENCH_APPLY_BATCHES sets the number of batches (default 300).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'slonik';
import { backendTicks, TICK_MICROS } from './support/server-cpu.js';

const tree = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const { PostgresProjector } = await import(`${tree}/src/projections/postgres/projector.ts`);
const { readModelProjections } = await import(`${tree}/src/projections/postgres/read-model-projections.ts`);
const { ensureReadModelSchema } = await import(`${tree}/src/projections/postgres/read-model-schema.ts`);
const { PostgresEventStore } = await import(`${tree}/src/shared/event-store/postgres/index.ts`);
const { skuStream, stockItemStream, storeStream } = await import(`${tree}/src/shared/streams.ts`);
const { createTestDatabase } = await import(`${tree}/tests/support/database.ts`);
const { createDatabasePool } = await import(`${tree}/src/shared/db/pool.ts`);
const meta = () => ({ actor: null, correlationId: randomUUID(), causationId: null, at: new Date().toISOString(), schemaVersion: 2 });
const ev = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: meta() });
const db = await createTestDatabase('fresh2_apply');
try {
  await ensureReadModelSchema(db.url);
  const store = new PostgresEventStore(db.pool);
  const own = await createDatabasePool(db.url, { maximumPoolSize: 1 });
  const projector = new PostgresProjector({ pool: own, store, projections: readModelProjections });
  await projector.registerPartitions(1);
  const storeId = randomUUID();
  await store.append(storeStream(storeId), [ev('StoreOpened', { storeId, name: 'S', code: null, address: null })], 'no_stream');
  const skus = Array.from({ length: 20 }, () => randomUUID());
  const qty = new Map<string, number>();
  for (const skuId of skus) {
    await store.append(skuStream(skuId), [ev('SkuCreated', { skuId, code: `C-${skuId.slice(0, 8)}`, name: 'n', category: null, unit: 'pc', price: '1.00', lowStockThreshold: 2 })], 'no_stream');
    await store.append(stockItemStream(storeId, skuId), [ev('StockItemAdded', { storeId, skuId, quantity: 1000, lowStockThreshold: 2 })], 'no_stream');
    qty.set(skuId, 1000);
  }
  let after = 0n;
  const seed = await store.readAll({ after, maxCount: 1000 });
  await projector.applyBatch({ events: seed, partition: 0, through: seed.at(-1)!.position });
  after = seed.at(-1)!.position;
  const batches = Number(process.env.BENCH_APPLY_BATCHES ?? 300);
  const times: number[] = [];
  const backend = Number(await own.oneFirst(sql.unsafe`select pg_backend_pid()`));
  const serverBefore = backendTicks(backend);
  let clientMicros = 0;
  const revisions = new Map<string, number>(skus.map((s) => [s, 0]));
  for (let i = 0; i < batches; i += 1) {
    const skuId = skus[i % skus.length]!;
    const q = qty.get(skuId)! - 1;
    qty.set(skuId, q);
    await store.append(stockItemStream(storeId, skuId), [ev('StockAdjusted', { delta: -1, reason: 'sold', note: null, reference: null, quantityAfter: q })], revisions.get(skuId)!);
    revisions.set(skuId, revisions.get(skuId)! + 1);
    const events = await store.readAll({ after, maxCount: 10 });
    const start = performance.now();
    const cpu = process.cpuUsage();
    await projector.applyBatch({ events, partition: 0, through: events.at(-1)!.position });
    const spent = process.cpuUsage(cpu);
    times.push(performance.now() - start);
    clientMicros += spent.user + spent.system;
    after = events.at(-1)!.position;
  }
  const serverAfter = backendTicks(backend);
  const serverMicros = serverBefore === null || serverAfter === null ? null : (serverAfter - serverBefore) * TICK_MICROS;
  await own.end();
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(2);
  const perBatch = (micros: number | null) => (micros === null ? '—' : Math.round(micros / batches).toString());
  console.log(
    `${tree}: applyBatch of one stock adjustment, ${batches} batches: p50 ${pct(50)} ms, p90 ${pct(90)} ms, p99 ${pct(99)} ms;` +
      ` CPU per batch: client ${perBatch(clientMicros)} µs, server ${perBatch(serverMicros)} µs`,
  );
} finally {
  await db.drop();
}
