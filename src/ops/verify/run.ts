import { sql } from 'slonik';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../shared/db/pool.js';
import { rootHash } from '../../shared/event-store/chain.js';
import type { EventStore } from '../../shared/event-store/port.js';
import type { Redis } from '../../shared/redis.js';
import { type ChainStart, chainPass } from './chain-pass.js';
import type { Difference } from './difference.js';
import { comparePostgres, compareRedis } from './read-models.js';

/** A root is `<position>:<sha256>`: the hash over every stream's head as of that position. */
export const rootPattern = /^(\d{1,19}):([0-9a-f]{64})$/;

export interface VerifyReport {
  startedAt: Date;
  finishedAt: Date;
  head: bigint;
  streams: number;
  events: number;
  /** `<head>:<hash over every stream's head>`: keep it elsewhere, check it later with --against. */
  root: string;
  /** With --against: whether the root as of its position is the same now. */
  against: { root: string; matches: boolean; now: string } | null;
  /** Streams written before the hash chain whose starting hash this run recorded. */
  startsRecorded: number;
  differences: Difference[];
}

const startRow = z.object({ stream_id: z.string(), revision: z.bigint().transform(Number), hash: z.string() });

/**
 * `npm run verify`: one pass over the event store checks every stream's order and hash
 * chain and folds it; the folds are then compared with the PostgreSQL read model and the
 * Redis hot model. The run is recorded (verify_runs) for the cluster report.
 */
export async function verify(input: {
  pool: DatabasePool;
  store: EventStore;
  redis: Redis | null;
  readModelSchema?: string;
  against?: string;
  progress?(events: number, position: bigint, head: bigint): void;
}): Promise<VerifyReport> {
  const startedAt = new Date();
  const { pool, store } = input;
  const head = await store.headPosition();
  const wanted = input.against === undefined ? null : rootPattern.exec(input.against);
  if (input.against !== undefined && !wanted) throw new RangeError(`--against must be a root as verify prints it (<position>:<sha256>), not ${input.against}`);
  const againstPosition = wanted ? BigInt(wanted[1]!) : null;
  if (againstPosition !== null && againstPosition > head) throw new RangeError(`--against names position ${againstPosition}, beyond the head ${head}`);

  const starts = new Map<string, ChainStart>(
    (await pool.any(sql.unsafe`select stream_id, revision, hash from es_chain_starts`)).map((raw) => {
      const row = startRow.parse(raw);
      return [row.stream_id, { revision: row.revision, hash: row.hash }];
    }),
  );
  const differences: Difference[] = [];
  const { streams, events } = await chainPass({
    store,
    head,
    starts,
    against: againstPosition,
    differences,
    progress: (count, position) => input.progress?.(count, position, head),
  });
  await comparePostgres(pool, input.readModelSchema ?? 'read_model', streams, head, differences);
  if (input.redis) await compareRedis(input.redis, streams, differences);

  // Streams from before the chain are covered from now on by the hash their old events have now.
  const newStarts = [...streams].filter(([stream, fold]) => fold.legacy !== null && !starts.has(stream));
  if (newStarts.length > 0) {
    const payload = JSON.stringify(newStarts.map(([stream, fold]) => ({ stream_id: stream, revision: fold.legacy!.revision, hash: fold.legacy!.hash })));
    await pool.query(sql.unsafe`
      insert into es_chain_starts (stream_id, revision, hash)
      select stream_id, revision, hash from jsonb_to_recordset(${payload}::jsonb) as x(stream_id text, revision bigint, hash text)
      on conflict (stream_id) do nothing`);
  }

  const root = `${head}:${rootHash([...streams].map(([stream, fold]) => [stream, fold.hash] as const))}`;
  let against: VerifyReport['against'] = null;
  if (wanted && againstPosition !== null) {
    const then = `${againstPosition}:${rootHash([...streams].flatMap(([stream, fold]) => (fold.hashAtAgainst === null ? [] : [[stream, fold.hashAtAgainst] as const])))}`;
    against = { root: input.against!, matches: then === input.against, now: then };
    if (!against.matches) {
      differences.push({ stream: '*', model: 'event store', field: 'root', expected: input.against, found: then, detail: `what was written up to position ${againstPosition} has changed since that root was taken` });
    }
  }
  const report: VerifyReport = { startedAt, finishedAt: new Date(), head, streams: streams.size, events, root, against, startsRecorded: newStarts.length, differences };
  await pool.query(sql.unsafe`
    insert into verify_runs (started_at, finished_at, head_position, streams, events, differences, root_hash, report)
    values (${startedAt.toISOString()}, ${report.finishedAt.toISOString()}, ${head.toString()}, ${report.streams}, ${events},
            ${differences.length}, ${root}, ${JSON.stringify({ against, startsRecorded: newStarts.length, differences: differences.slice(0, 100) })}::jsonb)`);
  return report;
}

export const lastVerifyView = z
  .object({
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    headPosition: z.string(),
    streams: z.int(),
    events: z.int(),
    differences: z.int(),
    root: z.string(),
  })
  .nullable();

/** The last `npm run verify`, for the cluster report; null before the first. */
export async function lastVerify(pool: DatabasePool): Promise<z.infer<typeof lastVerifyView>> {
  const row = await pool.maybeOne(sql.unsafe`
    select started_at, finished_at, head_position, streams, events, differences, root_hash from verify_runs order by id desc limit 1`);
  if (!row) return null;
  const parsed = z
    .object({ started_at: z.number(), finished_at: z.number(), head_position: z.bigint(), streams: z.bigint(), events: z.bigint(), differences: z.bigint(), root_hash: z.string() })
    .parse(row);
  return {
    startedAt: new Date(parsed.started_at).toISOString(),
    finishedAt: new Date(parsed.finished_at).toISOString(),
    headPosition: parsed.head_position.toString(),
    streams: Number(parsed.streams),
    events: Number(parsed.events),
    differences: Number(parsed.differences),
    root: parsed.root_hash,
  };
}
