import { type DatabasePool, type DatabaseTransactionConnection, sql } from 'slonik';
import { z } from 'zod/v4';
import type { BusBatch } from '../../shared/event-bus/port.js';
import { type EventStore, type RecordedEvent, streamCategory } from '../../shared/event-store/port.js';
import { STOCK_ITEM_CATEGORY } from '../../shared/hot-model/keys.js';
import { ProjectionFailed, readForProjection } from '../postgres/projector.js';
import { MAILER_STUCK } from '../../shared/read-model/stuck-streams.js';
import { readModelUsers, wantsLowStockMail } from './recipients.js';
import { type StockLevel, stockLevelRow } from '../stock-level.js';
import { isLowLevel, stepLevel } from './crossings.js';

/**
 * A new consumer group reads the topic from its start: without a bound it would mail every
 * crossing of the past. Crossings by events recorded longer ago than this are recorded as
 * historical and not mailed (24 h: a mailer down for a weekend night still catches up).
 */
export const DEFAULT_HISTORY_BOUND_MS = 24 * 3600_000;

export interface RecorderOptions {
  historyBoundMs?: number;
  now?: () => Date;
  /** Told of each stream marked stuck, to say it loudly. */
  onStuck?: (failure: ProjectionFailed) => void;
}

/** A crossing as recorded: the event that made the item low, and the level it left. */
interface Crossing {
  recorded: RecordedEvent;
  level: StockLevel;
}

const levelRow = z.object({ stream_id: z.string() }).and(stockLevelRow);

const insertedCrossing = z.object({ stream_id: z.string(), revision: z.bigint(), store_id: z.string(), historical: z.boolean() });
const recipientRow = z.object({ store_id: z.string(), user_id: z.string(), email: z.string() });

/**
 * Turns bus batches into crossings and the mails they owe, in one transaction per batch: the
 * mailer's stock levels, the crossings, the outbox rows and the partition's progress commit
 * together or not at all. A redelivered or replayed event is at or below its level's revision
 * and changes nothing; the unique keys of crossings and outbox rows are a second guard.
 */
export class CrossingRecorder {
  private readonly historyBoundMs: number;
  private readonly now: () => Date;
  private readonly onStuck: (failure: ProjectionFailed) => void;

  constructor(
    private readonly pool: DatabasePool,
    private readonly store: EventStore,
    options: RecorderOptions = {},
  ) {
    this.historyBoundMs = options.historyBoundMs ?? DEFAULT_HISTORY_BOUND_MS;
    this.now = options.now ?? (() => new Date());
    this.onStuck = options.onStuck ?? (() => {});
  }

  /** Applies one batch; answers how many outbox rows (mails owed to someone) it added. */
  async applyBatch(batch: BusBatch): Promise<number> {
    return this.pool.transaction(async (tx) => {
      const { owed } = await this.record(tx, batch.events, null);
      await tx.query(sql.unsafe`
        insert into mail_progress as t (partition, through)
        values (${batch.partition}, ${batch.through.toString()}::bigint)
        on conflict (partition) do update set through = greatest(t.through, excluded.through), updated_at = now()`);
      return owed;
    });
  }

  /**
   * Records a stuck stream again from the event store (after a fix: an upcaster, a code
   * change). Answers null when it is recorded and no longer stuck, or the failure that
   * keeps it stuck (one more attempt counted). Crossings it finds are owed as usual.
   */
  async retryStuck(streamId: string): Promise<ProjectionFailed | null> {
    return this.pool.transaction(async (tx) => {
      const stored = await tx.maybeOneFirst(sql.unsafe`select revision from mail_stock_levels where stream_id = ${streamId}`);
      const after = stored === null ? -1 : Number(z.bigint().parse(stored));
      const events = await this.store.readStream(streamId, { fromRevision: after + 1 });
      const { failures } = await this.record(tx, events, streamId);
      const failure = failures[0] ?? null;
      if (!failure) await tx.query(sql.unsafe`delete from ${sql.identifier([MAILER_STUCK, 'stuck_streams'])} where stream_id = ${streamId}`);
      return failure;
    });
  }

  /**
   * Folds each stream's new events into its level, stream by stream. A stream with an event
   * this release cannot read keeps the level before it and is marked stuck there; its later
   * events wait (a retry reads them from the store), and every other stream goes on.
   * `retrying` is the one stuck stream an operator's retry records again.
   */
  private async record(tx: DatabaseTransactionConnection, events: readonly RecordedEvent[], retrying: string | null): Promise<{ owed: number; failures: ProjectionFailed[] }> {
    const streams = new Map<string, RecordedEvent[]>();
    for (const event of events) {
      if (streamCategory(event.streamId) !== STOCK_ITEM_CATEGORY) continue;
      const list = streams.get(event.streamId);
      if (list) list.push(event);
      else streams.set(event.streamId, [event]);
    }
    if (streams.size === 0) return { owed: 0, failures: [] };
    const ids = [...streams.keys()].sort();
    // During a consumer-group rebalance two mailers may briefly hold the same batch: they
    // take the streams one after the other (in one order, so never a deadlock).
    await tx.query(sql.unsafe`
      select pg_advisory_xact_lock(hashtext('stockroom.mail:' || id))
        from unnest(${sql.array(ids, 'text')}::text[]) with ordinality as s(id, n) order by n`);
    // Read under the stream locks: a retry that cleared a stream has committed, or waits for us.
    const stuck = new Set(
      z.array(z.string()).parse(
        await tx.anyFirst(sql.unsafe`
          select stream_id from ${sql.identifier([MAILER_STUCK, 'stuck_streams'])}
           where stream_id = any(${sql.array(ids, 'text')}) and stream_id is distinct from ${retrying}`),
      ),
    );
    const rows = await tx.any(sql.unsafe`select * from mail_stock_levels where stream_id = any(${sql.array(ids, 'text')})`);
    const levels = new Map(
      rows.map((raw) => {
        const { stream_id: streamId, ...level } = levelRow.parse(raw);
        return [streamId, level];
      }),
    );

    const changed = new Map<string, StockLevel>();
    const crossings: Crossing[] = [];
    const failures: ProjectionFailed[] = [];
    for (const streamId of ids) {
      if (stuck.has(streamId)) continue;
      const start = levels.get(streamId) ?? null;
      let level = start;
      for (const recorded of await this.newEvents(streamId, start, streams.get(streamId) ?? [])) {
        let event;
        try {
          event = readForProjection(recorded);
        } catch (error) {
          if (!(error instanceof ProjectionFailed)) throw error;
          failures.push(error);
          await markStuck(tx, error);
          break;
        }
        const step = stepLevel(level, event, recorded);
        if (step.crossing && step.after) crossings.push({ recorded, level: step.after });
        level = step.after;
      }
      if (level && level !== start) changed.set(streamId, level);
    }
    await saveLevels(tx, changed);
    const owed = await this.saveCrossings(tx, crossings);
    // Said once the batch is recorded around them (or again when it is retried).
    for (const failure of failures) this.onStuck(failure);
    return { owed, failures };
  }

  /**
   * The delivered events past the stored revision, in order; when they do not follow on
   * from it (a gap: the group started past the stream's first event, or the embedded bus
   * resumed from another consumer's checkpoint) the missing ones come from the event store.
   */
  private async newEvents(streamId: string, start: StockLevel | null, delivered: RecordedEvent[]): Promise<RecordedEvent[]> {
    const after = start?.revision ?? -1;
    const events = delivered.filter((event) => event.revision > after).sort((a, b) => a.revision - b.revision);
    const last = events.at(-1);
    if (!last) return [];
    if (events.every((event, index) => event.revision === after + 1 + index)) return events;
    return this.store.readStream(streamId, { fromRevision: after + 1, maxCount: last.revision - after });
  }

  private async saveCrossings(tx: DatabaseTransactionConnection, crossings: Crossing[]): Promise<number> {
    if (crossings.length === 0) return 0;
    const horizon = this.now().getTime() - this.historyBoundMs;
    const payload = JSON.stringify(
      crossings.map(({ recorded, level }) => ({
        stream_id: recorded.streamId,
        revision: recorded.revision,
        store_id: level.storeId,
        sku_id: level.skuId,
        quantity: level.quantity,
        low_stock_threshold: level.lowStockThreshold,
        actor: recorded.metadata.actor,
        occurred_at: recorded.recordedAt.toISOString(),
        historical: recorded.recordedAt.getTime() < horizon,
      })),
    );
    // Only crossings recorded now get outbox rows: one already there was mailed (or owed) before.
    const inserted = await tx.any(sql.unsafe`
      insert into mail_crossings (stream_id, revision, store_id, sku_id, quantity, low_stock_threshold, actor, occurred_at, historical)
      select stream_id, revision, store_id, sku_id, quantity, low_stock_threshold, actor, occurred_at, historical
        from jsonb_to_recordset(${payload}::jsonb) as x(stream_id text, revision bigint, store_id uuid, sku_id uuid,
             quantity bigint, low_stock_threshold integer, actor text, occurred_at timestamptz, historical boolean)
      on conflict do nothing
      returning stream_id, revision, store_id::text as store_id, historical`);
    const toMail = inserted
      .map((raw) => insertedCrossing.parse(raw))
      .filter((crossing) => !crossing.historical);
    if (toMail.length === 0) return 0;

    const recipients = await recipientsOf(tx, [...new Set(toMail.map((crossing) => crossing.store_id))]);
    const outbox = toMail.flatMap((crossing) =>
      (recipients.get(crossing.store_id) ?? []).map((recipient) => ({
        stream_id: crossing.stream_id,
        revision: crossing.revision.toString(),
        recipient_user_id: recipient.user_id,
        recipient_email: recipient.email,
        store_id: crossing.store_id,
      })),
    );
    if (outbox.length === 0) return 0;
    const added = await tx.any(sql.unsafe`
      insert into mail_outbox (stream_id, revision, recipient_user_id, recipient_email, store_id)
      select stream_id, revision, recipient_user_id, recipient_email, store_id
        from jsonb_to_recordset(${JSON.stringify(outbox)}::jsonb)
          as x(stream_id text, revision bigint, recipient_user_id uuid, recipient_email text, store_id uuid)
      on conflict do nothing
      returning 1`);
    return added.length;
  }
}

async function markStuck(tx: DatabaseTransactionConnection, failure: ProjectionFailed): Promise<void> {
  const { event } = failure;
  const reason = failure.cause instanceof Error ? failure.cause.message : failure.message;
  await tx.query(sql.unsafe`
    insert into ${sql.identifier([MAILER_STUCK, 'stuck_streams'])} as t (stream_id, event_id, position, type, reason)
    values (${event.streamId}, ${event.id}, ${event.position.toString()}::bigint, ${event.type}, ${reason})
    on conflict (stream_id) do update
      set event_id = excluded.event_id, position = excluded.position, type = excluded.type, reason = excluded.reason, attempts = t.attempts + 1`);
}

async function saveLevels(tx: DatabaseTransactionConnection, levels: Map<string, StockLevel>): Promise<void> {
  if (levels.size === 0) return;
  const payload = JSON.stringify(
    [...levels].map(([streamId, level]) => ({
      stream_id: streamId,
      store_id: level.storeId,
      sku_id: level.skuId,
      quantity: level.quantity,
      low_stock_threshold: level.lowStockThreshold,
      removed: level.removed,
      low: isLowLevel(level),
      revision: level.revision,
      position: level.position.toString(),
    })),
  );
  await tx.query(sql.unsafe`
    insert into mail_stock_levels as t (stream_id, store_id, sku_id, quantity, low_stock_threshold, removed, low, revision, position)
    select stream_id, store_id, sku_id, quantity, low_stock_threshold, removed, low, revision, position
      from jsonb_to_recordset(${payload}::jsonb) as x(stream_id text, store_id uuid, sku_id uuid, quantity bigint,
           low_stock_threshold integer, removed boolean, low boolean, revision bigint, position bigint)
    on conflict (stream_id) do update set
      quantity = excluded.quantity, low_stock_threshold = excluded.low_stock_threshold, removed = excluded.removed,
      low = excluded.low, revision = excluded.revision, position = excluded.position, updated_at = now()
    where t.revision < excluded.revision`);
}

/**
 * Who gets a store's low-stock emails when the crossing is recorded (recipients.ts).
 */
async function recipientsOf(
  tx: DatabaseTransactionConnection,
  storeIds: string[],
): Promise<Map<string, z.infer<typeof recipientRow>[]>> {
  const rows = await tx.any(sql.unsafe`
    select s.store_id::text as store_id, u.id::text as user_id, u.email
      from unnest(${sql.array(storeIds, 'uuid')}::uuid[]) as s(store_id)
      join ${readModelUsers} u on ${wantsLowStockMail('u', 's.store_id')}`);
  const byStore = new Map<string, z.infer<typeof recipientRow>[]>();
  for (const raw of rows) {
    const row = recipientRow.parse(raw);
    const list = byStore.get(row.store_id);
    if (list) list.push(row);
    else byStore.set(row.store_id, [row]);
  }
  return byStore;
}
