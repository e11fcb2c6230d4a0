import pg from 'pg';
import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import type { EventStore, RecordedEvent } from '../../shared/event-store/port.js';
import { catchUp } from '../../shared/event-store/catch-up.js';
import type { ReadModelProjections } from './projection.js';
import { PostgresProjector, READ_MODEL_LOCK } from './projector.js';
import { ensureReadModelSchema, READ_MODEL, READ_MODEL_NEXT } from './read-model-schema.js';
import { HeldCounters } from './rebuild-held.js';
import { LedgerCopy } from './rebuild-ledger.js';
import { stockLedgerProjection } from './projections/stock-ledger.js';

/** Held by whoever rebuilds (the CLI, or a projector upgrading the read model): one rebuild at a time. */
const REBUILD_LOCK = 'stockroom.read_model_rebuild';

/**
 * Runs `rebuild` under a session lock on a connection of its own, waiting for a rebuild
 * already under way: two would both fill read_model_next.
 */
export async function withRebuildLock<T>(pool: DatabasePool, rebuild: () => Promise<T>): Promise<T> {
  return pool.connect(async (connection) => {
    await connection.query(sql.unsafe`select pg_advisory_lock(hashtext(${REBUILD_LOCK}))`);
    try {
      return await rebuild();
    } finally {
      await connection.query(sql.unsafe`select pg_advisory_unlock(hashtext(${REBUILD_LOCK}))`);
    }
  });
}

export interface RebuildProgress {
  through: bigint;
  head: bigint;
  events: number;
  eventsPerSecond: number;
}

/** A progress callback that logs at most once a second, and at the end: `rebuild 42.0%`. */
export function logRebuildProgress(log: { info(obj: object, msg?: string): void }): (report: RebuildProgress) => void {
  let lastReport = 0;
  return ({ through, head, events, eventsPerSecond }) => {
    if (Date.now() - lastReport < 1_000 && through < head) return;
    lastReport = Date.now();
    const percent = head === 0n ? 100 : Number((through * 1000n) / head) / 10;
    log.info({ through: through.toString(), head: head.toString(), events, eventsPerSecond }, `rebuild ${percent.toFixed(1)}%`);
  };
}

/**
 * Events a rebuild applies in one transaction: a stream's row is written once per such
 * batch however many of its events it holds, so bigger batches write fewer row versions.
 */
const EVENTS_PER_APPLY = 20_000;

/**
 * Gathers the pages a subscription reads into batches of at least `eventsPerApply` events
 * and applies each while the next is being read: reading (and PostgreSQL's work for it)
 * overlaps the writes. One batch is applied at a time, in order; a batch that fails fails
 * the next `add` (or `finish`), so the catch-up stops there and nothing after it is applied.
 */
class PipelinedPages {
  private pending: RecordedEvent[] = [];
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly apply: (events: RecordedEvent[]) => Promise<void>,
    private readonly eventsPerApply: number,
  ) {}

  async add(events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) this.pending.push(event);
    if (this.pending.length >= this.eventsPerApply) await this.start();
  }

  /** Applies what is left; resolves when everything added is applied. */
  async finish(): Promise<void> {
    if (this.pending.length > 0) await this.start();
    await this.applying;
  }

  /** Resolves once nothing is being applied, whether it succeeded or not. */
  async settled(): Promise<void> {
    await this.applying.catch(() => {});
  }

  private async start(): Promise<void> {
    await this.applying; // one at a time, and the previous one's failure stops here
    const events = this.pending;
    this.pending = [];
    this.applying = this.apply(events);
    // Awaited by the next add or by finish; marked handled so that a failure is not reported twice.
    this.applying.catch(() => {});
  }
}

/**
 * Secondary indexes the projector's own statements read while a rebuild loads: the SKU's
 * stock items (the summary and the store totals of a price change), the hourly movements by
 * hour (the top movers' windows). Kept; the others are dropped before the replay.
 */
const READ_WHILE_LOADING = ['stock_sku', 'sku_movements_hourly_hour'];

/**
 * Drops the indexes of a fresh schema that nothing reads until the swap, and answers the
 * statements that create them again. Building an index once over the loaded rows costs a
 * sort; keeping it row by row costs a descent per row version (every stock row is written
 * again by each batch that moves it). The unique keys the upserts arbitrate on stay; the
 * ledger's primary key goes too: rows are only added, each event once (an exclusive
 * projector sees no repeat), so nothing conflicts on it, and a duplicate would still fail
 * the rebuild when the key is built again.
 */
async function dropDeferredIndexes(pool: DatabasePool, schema: string): Promise<string[]> {
  const indexes = z.array(z.object({ name: z.string(), definition: z.string() })).parse(
    await pool.any(sql.unsafe`
      select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
        from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = ${schema} and not i.indisunique and c.relname <> all(${sql.array(READ_WHILE_LOADING, 'text')})
       order by c.relname`),
  );
  const ledgerKey = z.string().parse(
    await pool.oneFirst(sql.unsafe`
      select pg_get_constraintdef(oid) from pg_constraint
       where conrelid = ${`${schema}.stock_ledger`}::regclass and contype = 'p'`),
  );
  const ledger = sql.identifier([schema, 'stock_ledger']);
  await pool.query(sql.unsafe`alter table ${ledger} drop constraint stock_ledger_pkey`);
  for (const { name } of indexes) await pool.query(sql.unsafe`drop index ${sql.identifier([schema, name])}`);
  return [
    ...indexes.map(({ definition }) => definition),
    `alter table ${pg.escapeIdentifier(schema)}.stock_ledger add constraint stock_ledger_pkey ${ledgerKey}`,
  ];
}

/** DDL read back from the catalog (pg_get_indexdef), run as it is on a connection of its own. */
async function runStatements(databaseUrl: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface RebuildOptions {
  databaseUrl: string;
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  progress?: (report: RebuildProgress) => void;
  batchSize?: number;
  /** Events applied in one transaction (default EVENTS_PER_APPLY); tests make it small to cross many batches. */
  eventsPerApply?: number;
  /** Keys a counter holds before it is written (default HELD_KEYS, rebuild-held.ts); tests make it small. */
  heldKeys?: number;
}

/**
 * Rebuilds the PostgreSQL read model from the event store into fresh tables (schema
 * read_model_next) while the live one keeps answering, then swaps them in:
 *
 * 1. replay every event into read_model_next, through the gap-safe subscription;
 * 2. take the read-model lock exclusively (live batches hold it shared, so none is
 *    half-applied), apply the events the live projector had already applied beyond the
 *    replay, copy its per-partition progress, and rename the schemas, in one transaction.
 *
 * After the swap the live projector goes on from its own offsets; what it meets again is
 * a repeat and changes nothing.
 */
export async function rebuildReadModel(options: RebuildOptions): Promise<{ through: bigint; events: number }> {
  const { pool, store } = options;
  await ensureReadModelSchema(options.databaseUrl, READ_MODEL_NEXT, { replace: true });
  // Exclusive: read_model_next was just created empty, and under the rebuild lock nothing
  // else writes it or reads it until the swap below.
  const ledger = new LedgerCopy(options.databaseUrl, READ_MODEL_NEXT);
  const counters = new HeldCounters(options.heldKeys);
  const projections: ReadModelProjections = {
    rows: options.projections.rows,
    appliedEvents: options.projections.appliedEvents.map((projection) =>
      projection === stockLedgerProjection ? ledger.projection : counters.substitute(projection),
    ),
  };
  const projector = new PostgresProjector({ pool, store, projections, schema: READ_MODEL_NEXT, exclusive: true });
  const deferred = await dropDeferredIndexes(pool, READ_MODEL_NEXT);
  const head = await store.headPosition();
  const started = Date.now();
  let events = 0;

  const pages = new PipelinedPages(async (batch) => {
    const last = batch.at(-1)!.position;
    await projector.applyBatch({ events: batch, partition: 0, through: last });
    events += batch.length;
    options.progress?.({ through: last, head, events, eventsPerSecond: Math.round(events / Math.max(0.001, (Date.now() - started) / 1000)) });
  }, options.eventsPerApply ?? EVENTS_PER_APPLY);
  const through = await catchUp(store, {
    after: 0n,
    batchSize: options.batchSize ?? 5_000,
    onEvents: (batch) => pages.add(batch),
  })
    .then(async (through) => {
      await pages.finish();
      await projector.flush();
      await counters.finish(pool, READ_MODEL_NEXT);
      await ledger.finish();
      return through;
    })
    .catch(async (error: unknown) => {
      await pages.settled(); // no write into read_model_next outlives the rebuild (and its lock)
      await ledger.abort();
      throw error;
    });
  // Before the swap's exclusive lock: the live model keeps answering while they are built.
  await runStatements(options.databaseUrl, deferred);

  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext(${READ_MODEL_LOCK}))`);
    const liveExists = await tx.exists(sql.unsafe`select 1 from pg_namespace where nspname = ${READ_MODEL}`);
    const next = sql.identifier([READ_MODEL_NEXT, 'progress']);
    // With no live model the replay's own progress (through its last event) stands as it is.
    if (liveExists) {
      const live = sql.identifier([READ_MODEL, 'progress']);
      const liveThrough = z.bigint().nullable().parse(await tx.oneFirst(sql.unsafe`select max(through) from ${live}`));
      // Everything up to the forwarder's checkpoint is final, and the live projector saw no further.
      for (let after = through; liveThrough !== null && after < liveThrough; ) {
        const batch = (await store.readAll({ after, maxCount: 5_000 })).filter((event) => event.position <= liveThrough);
        const last = batch.at(-1);
        if (!last) break;
        await projector.applyWithin(tx, { events: batch, partition: 0, through: last.position });
        events += batch.length;
        after = last.position;
      }
      await tx.query(sql.unsafe`delete from ${next}`);
      await tx.query(sql.unsafe`insert into ${next} (partition, through, updated_at) select partition, through, updated_at from ${live}`);
      await tx.query(sql.unsafe`alter schema ${sql.identifier([READ_MODEL])} rename to ${sql.identifier([`${READ_MODEL}_old`])}`);
    }
    await tx.query(sql.unsafe`alter schema ${sql.identifier([READ_MODEL_NEXT])} rename to ${sql.identifier([READ_MODEL])}`);
    if (liveExists) await tx.query(sql.unsafe`drop schema ${sql.identifier([`${READ_MODEL}_old`])} cascade`);
  });
  return { through, events };
}
