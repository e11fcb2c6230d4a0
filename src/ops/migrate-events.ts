import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../shared/db/pool.js';
import type { EventStore, EventToAppend, RecordedEvent } from '../shared/event-store/port.js';
import { READ_MODEL } from '../shared/read-model/schema-name.js';

export interface MigrationProgress {
  /** Events copied so far, this run and the runs before. */
  events: number;
  /** The source position copied through. */
  through: bigint;
  head: bigint;
}

export interface MigrateEventsOptions {
  source: EventStore;
  target: EventStore;
  /** Where the progress is kept (event_migrations, migration 020). */
  pool: DatabasePool;
  /** Names the copy, so that a second run resumes it: e.g. `postgres->eventstoredb`. */
  name: string;
  pageSize?: number;
  progress?(progress: MigrationProgress): void;
}

const progressRow = z.object({ through: z.bigint(), events: z.bigint() });

/**
 * Copies every event of `source` into `target` in position order, keeping each event's id,
 * type, data, metadata (its hash chain with it) and revision: consecutive events of one
 * stream go as one append, expecting the revision before the first. Resumable: the source
 * position copied through is saved after each page, and a page copied again after a crash
 * writes nothing, since both stores answer a repeat of the same ids with the first result.
 * Not kept: positions and recorded times, which the target assigns (metadata.at keeps when
 * each command happened). The read models and checkpoints must be rebuilt afterwards.
 */
export async function migrateEvents(options: MigrateEventsOptions): Promise<MigrationProgress> {
  const { source, target, pool, name } = options;
  const pageSize = options.pageSize ?? 1_000;
  const saved = await pool.maybeOne(sql.unsafe`select through, events from event_migrations where name = ${name}`);
  let { through, events } = saved ? progressRow.parse(saved) : { through: 0n, events: 0n };
  if (!saved && (await target.headPosition()) !== 0n) {
    throw new Error(`the target event store is not empty and no copy named ${name} was started: copy into an empty store (or resume the same copy)`);
  }
  const head = await source.headPosition();
  for (;;) {
    const page = await source.readAll({ after: through, maxCount: pageSize });
    if (page.length === 0) break;
    for (const run of runsOfOneStream(page)) {
      const first = run[0]!;
      const expected = first.revision === 0 ? 'no_stream' : first.revision - 1;
      await target.append(first.streamId, run.map(toAppend), expected);
    }
    through = page.at(-1)!.position;
    events += BigInt(page.length);
    await pool.query(sql.unsafe`
      insert into event_migrations (name, through, events) values (${name}, ${through.toString()}, ${events.toString()})
      on conflict (name) do update set through = excluded.through, events = excluded.events, updated_at = now()`);
    options.progress?.({ events: Number(events), through, head });
  }
  return { events: Number(events), through, head };
}

/** Consecutive events of the same stream, in order: each run is one append. */
function* runsOfOneStream(events: RecordedEvent[]): Generator<RecordedEvent[]> {
  let run: RecordedEvent[] = [];
  for (const event of events) {
    if (run.length > 0 && (run[0]!.streamId !== event.streamId || run.at(-1)!.revision + 1 !== event.revision)) {
      yield run;
      run = [];
    }
    run.push(event);
  }
  if (run.length > 0) yield run;
}

const toAppend = (event: RecordedEvent): EventToAppend => ({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });

/**
 * After a complete move, the checkpoints that hold positions of the old store are set to the
 * new store's head: every event is already on the bus and mailed under its old position, and
 * the new positions are not comparable with the old (KurrentDB's byte offsets, PostgreSQL's
 * sequence). The forwarder then forwards only what is written from now on, and the mailer does
 * not mail old crossings again. The read model's per-partition progress moves there too: its
 * rows are rebuilt separately (projections:rebuild, which keeps the live progress), and a
 * progress left in old positions would let `X-Min-Position` of a new position pass early
 * (old positions higher) or wait for the next write (lower). The Redis model rebuilds itself
 * once its keys are gone.
 */
export async function moveCheckpoints(pool: DatabasePool, head: bigint): Promise<void> {
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      insert into projection_checkpoints (name, position) values ('forwarder', ${head.toString()}::bigint)
      on conflict (name) do update set position = excluded.position, updated_at = now()`);
    await tx.query(sql.unsafe`update mail_progress set through = ${head.toString()}::bigint, updated_at = now()`);
    const progress = sql.identifier([READ_MODEL, 'progress']);
    if (await tx.exists(sql.unsafe`select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${READ_MODEL} and c.relname = 'progress'`)) {
      await tx.query(sql.unsafe`update ${progress} set through = ${head.toString()}::bigint, updated_at = now()`);
    }
  });
}
