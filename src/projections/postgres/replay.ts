import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { catchUp } from '../../shared/event-store/catch-up.js';
import type { EventStore } from '../../shared/event-store/port.js';
import { eventLogOf } from '../../shared/event-store/log-queries.js';
import { positionAt } from '../../shared/event-store/postgres/position-at.js';
import type { ReadModelProjections } from './projection.js';
import { PostgresProjector } from './projector.js';
import type { RebuildProgress } from './rebuild.js';
import { ensureReadModelSchema, READ_MODEL, READ_MODEL_NEXT } from './read-model-schema.js';

/** A schema name an auditor can type unquoted, and never one the live system uses. */
const replaySchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower case letters, digits and _, starting with a letter or _')
  .refine((name) => ![READ_MODEL, READ_MODEL_NEXT, `${READ_MODEL}_old`, 'public', 'information_schema'].includes(name) && !name.startsWith('pg_'), 'is a schema Stockroom or PostgreSQL uses');

/** `--until`: a global position, or an ISO 8601 time with its offset. */
export const untilArgument = z.union([z.string().regex(/^\d{1,19}$/).transform(BigInt), z.iso.datetime({ offset: true }).transform((text) => new Date(text))]);

export class ReplayRefused extends Error {}

export const parseReplaySchema = (name: string): string => {
  const parsed = replaySchema.safeParse(name);
  if (!parsed.success) throw new ReplayRefused(`--schema ${name}: ${parsed.error.issues[0]?.message ?? 'not a schema name'}`);
  return parsed.data;
};

/** A schema replay may replace or drop: absent, or a read model (it has the fingerprint table) of a replay. */
async function ownedByReplay(pool: DatabasePool, schema: string): Promise<boolean> {
  const exists = z.boolean().parse(await pool.oneFirst(sql.unsafe`select exists (select 1 from pg_namespace where nspname = ${schema})`));
  if (!exists) return true;
  return z.boolean().parse(await pool.oneFirst(sql.unsafe`select to_regclass(${`${schema}.replayed_until`}) is not null`));
}

/**
 * The PostgreSQL read models as they stood at a past point, in a schema of their own beside
 * the live one, for an auditor to query with SQL: the same projector, fed every event up to
 * that position and none after. The live read model is not touched. `replayed_until` in the
 * schema says which point it shows.
 */
export async function replayReadModel(options: {
  databaseUrl: string;
  pool: DatabasePool;
  store: EventStore;
  projections: ReadModelProjections;
  schema: string;
  until: bigint | Date;
  progress?: (report: RebuildProgress) => void;
}): Promise<{ until: bigint; events: number }> {
  const { pool, store } = options;
  const schema = parseReplaySchema(options.schema);
  if (!(await ownedByReplay(pool, schema))) throw new ReplayRefused(`schema ${schema} exists and is not a replay: choose another name`);
  const head = await store.headPosition();
  if (options.until instanceof Date && options.until.getTime() > Date.now()) throw new ReplayRefused('--until is in the future');
  const log = eventLogOf(pool); // KurrentDB: the moment's position is asked of it
  const until = options.until instanceof Date ? await (log ? log.positionAt(options.until) : positionAt(pool, options.until)) : options.until;
  if (until > head) throw new ReplayRefused(`--until ${until} is beyond the head of the event store (${head})`);

  await ensureReadModelSchema(options.databaseUrl, schema, { replace: true });
  // Marked as a replay's at once, so that a replay cut short can be replaced or dropped.
  const marker = sql.identifier([schema, 'replayed_until']);
  const untilTime = options.until instanceof Date ? options.until.toISOString() : null;
  await pool.query(sql.unsafe`create table ${marker} (position bigint not null, requested_time timestamptz, complete boolean not null, replayed_at timestamptz not null default now())`);
  await pool.query(sql.unsafe`insert into ${marker} (position, requested_time, complete) values (${until.toString()}, ${untilTime}, false)`);
  const projector = new PostgresProjector({ pool, store, projections: options.projections, schema });
  const started = Date.now();
  let events = 0;
  if (until > 0n) {
    await catchUp(store, {
      after: 0n,
      until,
      onEvents: async (batch) => {
        const last = batch.at(-1)!.position;
        await projector.applyBatch({ events: batch, partition: 0, through: last });
        events += batch.length;
        options.progress?.({ through: last, head: until, events, eventsPerSecond: Math.round(events / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
    });
  }
  await pool.query(sql.unsafe`update ${marker} set complete = true, replayed_at = now()`);
  return { until, events };
}

/** `--drop`: removes a replay's schema; refuses any other. */
export async function dropReplay(pool: DatabasePool, name: string): Promise<void> {
  const schema = parseReplaySchema(name);
  if (!(await ownedByReplay(pool, schema))) throw new ReplayRefused(`schema ${schema} is not a replay: not dropped`);
  await pool.query(sql.unsafe`drop schema if exists ${sql.identifier([schema])} cascade`);
}
