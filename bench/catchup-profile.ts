/**
 * Scratch (not a section): loads BENCH_CATCHUP_EVENTS events of the bench's history into a
 * database kept between runs (PROFILE_DB), then runs rebuildReadModel PROFILE_RUNS times,
 * printing µs of Node and of PostgreSQL per event. For `node --cpu-prof` on the rebuild alone.
 */
import pg from 'pg';
import { rebuildReadModel } from '../src/projections/postgres/rebuild.js';
import { readModelProjections } from '../src/projections/postgres/read-model-projections.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createDatabasePool } from '../src/shared/db/pool.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { copyFrom, recordStreamRevisions } from './support/copy.js';
import { databaseUrl } from './support/database.js';
import { serverUrl } from './support/config.js';
import { serverCpuProbe } from './support/server-cpu.js';
import { ES_EVENTS_COPY, historyShape, stockHistory } from './support/stock-history.js';

const events = Number(process.env['BENCH_CATCHUP_EVENTS'] ?? 200_000);
const name = process.env['PROFILE_DB'] ?? `catchup2_prof_${events}`;
const runs = Number(process.env['PROFILE_RUNS'] ?? 1);
const url = databaseUrl(serverUrl, name);

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const exists = (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
if (!exists) await admin.query(`create database ${name}`);
await admin.end();
if (!exists) {
  await migrate(url);
  const history = stockHistory(historyShape(events));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await copyFrom(client, ES_EVENTS_COPY, history.chunks(10_000));
  await recordStreamRevisions(client, history.streamRevisions());
  await client.query('analyze');
  await client.end();
  console.log(`loaded ${events} events into ${name}, ${history.totalQuantity()} units`);
}
const pool = await createDatabasePool(url, { maximumPoolSize: 4 });
// PROFILE_PLAIN=0: pages through slonik, as before the plain poll.
const plain = process.env['PROFILE_PLAIN'] === '0' ? null : new pg.Pool({ connectionString: url, max: 2 });
const store = new PostgresEventStore(pool, plain);
// Time in garbage collection (PROFILE_GC=1), from the gc performance entries.
let gcMs = 0;
const { PerformanceObserver } = await import('node:perf_hooks');
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});
if (process.env['PROFILE_GC']) gcObserver.observe({ entryTypes: ['gc'] });
for (let run = 0; run < runs; run += 1) {
  gcMs = 0;
  await pool.query((await import('slonik')).sql.unsafe`drop schema if exists read_model cascade`);
  const probe = await serverCpuProbe(url);
  await probe.open();
  const cpu = process.cpuUsage();
  const began = performance.now();
  const result = await rebuildReadModel({ databaseUrl: url, pool, store, projections: readModelProjections, batchSize: 5_000, eventsPerApply: process.env['PROFILE_APPLY'] ? Number(process.env['PROFILE_APPLY']) : undefined });
  const seconds = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  const server = await probe.close();
  await probe.end();
  const check = await pool.one((await import('slonik')).sql.unsafe`select count(*)::int as items, sum(quantity)::bigint as units from read_model.stock`);
  console.log(
    `run ${run}: ${result.events} events in ${seconds.toFixed(2)} s = ${Math.round(result.events / seconds)} events/s; ` +
      `node ${((used.user + used.system) / result.events).toFixed(1)} µs/event (gc ${((gcMs * 1000) / result.events).toFixed(1)}), pg ${server === null ? '?' : (server / result.events).toFixed(1)} µs/event; ` +
      `${JSON.stringify(check, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
  );
}
await plain?.end();
await pool.end();
