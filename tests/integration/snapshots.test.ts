import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { StockItemEvent } from '../../src/shared/events/stock-item.js';
import { chainHash, chainSeed } from '../../src/shared/event-store/chain.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/index.js';
import { newId } from '../../src/shared/ids.js';
import { PostgresSnapshotStore } from '../../src/shared/snapshots/postgres.js';
import { aggregate } from '../../src/write/aggregate.js';
import { stockItems } from '../../src/write/aggregates.js';
import { type CommandContext, CommandHandler, type HandlerLog } from '../../src/write/command-handler.js';
import { stockItemDecider } from '../../src/write/stock-item/decider.js';
import { StockItemStateSchema, type StockItemState } from '../../src/write/stock-item/state.js';
import { stockItemStream } from '../../src/write/streams.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Snapshots through the real PostgreSQL: a process restarting (a new handler, its cache
 * empty) answers from a snapshot exactly as from a full fold, and falls back to the full
 * fold, saying so, whenever a snapshot cannot be trusted.
 */
const test = suite<{ db: TestDatabase; store: PostgresEventStore; snapshots: PostgresSnapshotStore }>('snapshots: a restart through PostgreSQL');

const EVERY = 10;

test.before(async (context) => {
  context.db = await createTestDatabase('snapshots');
  context.store = new PostgresEventStore(context.db.pool);
  context.snapshots = new PostgresSnapshotStore(context.db.pool);
});
test.after(async ({ db }) => db.drop());

/** The handler's warnings, kept to be read. */
function recordingLog(): HandlerLog & { lines: { message: string; details: Record<string, unknown> }[] } {
  const lines: { message: string; details: Record<string, unknown> }[] = [];
  return { lines, warn: (details, message) => void lines.push({ message, details }) };
}

const context = (): CommandContext => ({ actor: null, correlationId: newId(), now: new Date() });

const withSnapshots = (snapshots: PostgresSnapshotStore, log: HandlerLog = recordingLog()) => new CommandHandler(new PostgresEventStore(snapshots['pool']), { snapshots: { store: snapshots, log, every: EVERY } });

/** A stock item with `adjustments` adjustments after its addition, written by a handler with snapshots. */
async function itemWith(store: PostgresEventStore, snapshots: PostgresSnapshotStore, adjustments: number) {
  const storeId = newId();
  const skuId = newId();
  const stream = stockItemStream(storeId, skuId);
  const writer = new CommandHandler(store, { snapshots: { store: snapshots, log: recordingLog(), every: EVERY } });
  await writer.handle(stockItems, stream, { type: 'AddStockItem', storeId, skuId, quantity: 500, lowStockThreshold: 2, storeStatus: 'open', skuExists: true }, context());
  for (let index = 0; index < adjustments; index += 1) {
    await writer.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: index % 3 === 0 ? 5 : -2, reason: index % 3 === 0 ? 'received' : 'sold', note: null }, context());
  }
  await writer.snapshotsWritten();
  return { storeId, skuId, stream };
}

const snapshotRows = async (db: TestDatabase, stream: string) =>
  z.array(z.object({ fingerprint: z.string(), revision: z.bigint() })).parse(await db.pool.any(sql.unsafe`select fingerprint, revision from snapshots where stream_id = ${stream}`));

/** Every event chains to the one before it, the first to the stream's seed. */
async function assertChainExact(store: PostgresEventStore, stream: string): Promise<void> {
  let previous = chainSeed(stream);
  for (const event of await store.readStream(stream)) {
    assert.is(event.metadata.hash, chainHash(previous, event), `chain at revision ${event.revision}`);
    previous = event.metadata.hash!;
  }
}

test('a snapshot is taken at each multiple of N crossed by an append, under the aggregate\'s fingerprint', async ({ db, store, snapshots }) => {
  const { stream } = await itemWith(store, snapshots, 34);
  // 35 events: revisions 0..34; the last multiple of 10 crossed is revision 30.
  assert.equal(await snapshotRows(db, stream), [{ fingerprint: stockItems.snapshots!.fingerprint, revision: 30n }]);
});

test('a command after a restart with a snapshot answers as one without: same state, revision, position and hash, same events, chain exact', async ({ db, store, snapshots }) => {
  const { storeId, skuId, stream } = await itemWith(store, snapshots, 36);
  const log = recordingLog();
  const restarted = withSnapshots(snapshots, log);
  const plain = new CommandHandler(store);
  const fromSnapshot = await restarted.load(stockItems, stream);
  const fromStart = await plain.load(stockItems, stream);
  assert.equal(fromSnapshot, fromStart);
  assert.is(fromSnapshot.revision, 36);

  const sale = { type: 'AdjustStock', storeId, skuId, delta: -7, reason: 'sold', note: null } as const;
  const answered = await withSnapshots(snapshots, log).handle(stockItems, stream, sale, context());
  assert.is(answered.revision, 37);
  assert.equal(answered.events, [{ type: 'StockAdjusted', data: { delta: -7, reason: 'sold', note: null, reference: null, quantityAfter: fromStart.state.status === 'present' ? fromStart.state.quantity - 7 : -1 } }]);
  const after = await new CommandHandler(store).load(stockItems, stream);
  assert.equal({ state: answered.state, revision: answered.revision, position: answered.position, hash: answered.hash }, after);
  await assertChainExact(store, stream);
  assert.equal(log.lines, []);
  void db;
});

test('the expected revision stays exact: another replica\'s write after the snapshot is seen, and a stale If-Match is refused', async ({ store, snapshots }) => {
  const { storeId, skuId, stream } = await itemWith(store, snapshots, 12);
  const other = new CommandHandler(store);
  await other.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 3, reason: 'received', note: null }, context());
  const restarted = withSnapshots(snapshots);
  const loaded = await restarted.load(stockItems, stream);
  assert.is(loaded.revision, 13);
  const error = await restarted
    .handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, { ...context(), ifMatch: 10 })
    .then(() => null, (failure: unknown) => failure);
  assert.instance(error, Error);
  assert.is((error as Error).name, 'VersionConflict');
});

test('a snapshot under another fingerprint (a changed evolve) is ignored: the changed decider folds the whole stream', async ({ db, store, snapshots }) => {
  const { stream } = await itemWith(store, snapshots, 25);
  // A release whose evolve forgets thresholds: its own fold must show, not the old snapshot.
  const changed = aggregate(
    'stock item',
    { ...stockItemDecider, evolve: (state: StockItemState, event: StockItemEvent): StockItemState => (event.type === 'StockAdjusted' && state.status === 'present' ? { ...state, quantity: event.data.quantityAfter, lowStockThreshold: 0 } : stockItemDecider.evolve(state, event)) },
    StockItemEvent,
    { state: StockItemStateSchema, stateVersion: 1 },
  );
  assert.is.not(changed.snapshots!.fingerprint, stockItems.snapshots!.fingerprint);
  // Were the old snapshot used, the state would keep the old threshold (2).
  await db.pool.query(sql.unsafe`update snapshots set state = jsonb_set(state, '{lowStockThreshold}', '2') where stream_id = ${stream}`);
  const log = recordingLog();
  const loaded = await withSnapshots(snapshots, log).load(changed, stream);
  assert.is(loaded.state.status === 'present' && loaded.state.lowStockThreshold, 0);
  assert.equal(loaded, await new CommandHandler(store).load(changed, stream));
  // Not an error: the new release takes its own snapshot after folding 26 events (>= N), and the old one stays for the old release.
  assert.equal(log.lines, []);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const rows = await snapshotRows(db, stream);
  assert.equal(rows.map((row) => row.fingerprint).sort(), [stockItems.snapshots!.fingerprint, changed.snapshots!.fingerprint].sort());
});

test('a snapshot whose state does not parse: the whole stream is folded, the log says so, the row is discarded', async ({ db, store, snapshots }) => {
  const { stream } = await itemWith(store, snapshots, 15);
  await db.pool.query(sql.unsafe`update snapshots set state = '{"status":"present","quantity":"lots"}' where stream_id = ${stream}`);
  const log = recordingLog();
  const handler = withSnapshots(snapshots, log);
  const loaded = await handler.load(stockItems, stream);
  await handler.snapshotsWritten();
  assert.equal(loaded, await new CommandHandler(store).load(stockItems, stream));
  assert.is(log.lines.length, 1);
  assert.is(log.lines[0]?.message, 'snapshot not used, folding the whole stream');
  assert.equal({ stream: log.lines[0]?.details.stream, reason: log.lines[0]?.details.reason }, { stream, reason: 'its state does not parse' });
  // Discarded, then taken again from the full fold of 16 events (>= N).
  const rows = await snapshotRows(db, stream);
  assert.equal(rows.map((row) => row.revision), [15n]);
});

test('a snapshot row that does not parse (its hash column): the whole stream is folded and the log says so', async ({ db, store, snapshots }) => {
  const { stream } = await itemWith(store, snapshots, 11);
  await db.pool.query(sql.unsafe`update snapshots set hash = 'not a hash' where stream_id = ${stream}`);
  const log = recordingLog();
  const loaded = await withSnapshots(snapshots, log).load(stockItems, stream);
  assert.equal(loaded, await new CommandHandler(store).load(stockItems, stream));
  assert.equal(log.lines.map((line) => [line.message, line.details.reason]), [['snapshot not used, folding the whole stream', 'its row does not parse']]);
});

test('a snapshot of another history (its event at another position, or another hash) is not trusted past what it covers', async ({ db, store, snapshots }) => {
  for (const [change, reason] of [
    [sql.fragment`position = position + 1000`, 'is at another position'],
    [sql.fragment`hash = repeat('a', 64)`, 'has another chain hash'],
    [sql.fragment`revision = 1000`, 'the stream has no event at revision 1000'],
  ] as const) {
    const { stream } = await itemWith(store, snapshots, 10);
    await db.pool.query(sql.unsafe`update snapshots set ${change}, state = jsonb_set(state, '{quantity}', '1') where stream_id = ${stream}`);
    const log = recordingLog();
    const loaded = await withSnapshots(snapshots, log).load(stockItems, stream);
    assert.equal(loaded, await new CommandHandler(store).load(stockItems, stream));
    assert.is(log.lines.length, 1, reason);
    assert.ok(String(log.lines[0]?.details.reason).includes(reason), `${String(log.lines[0]?.details.reason)} / ${reason}`);
  }
});

test('a snapshot store that fails (its table gone) never fails the command: the read and the write are logged', async ({ db, store, snapshots }) => {
  const { storeId, skuId, stream } = await itemWith(store, snapshots, 9);
  await db.pool.query(sql.unsafe`alter table snapshots rename to snapshots_away`);
  try {
    const log = recordingLog();
    const handler = withSnapshots(snapshots, log);
    // The cold load's read fails (full fold); its fold of 10 events (>= N) makes a write due, and
    // so does the append from revision 9 to 10 (a multiple of N): both fail.
    const answered = await handler.handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, context());
    await handler.snapshotsWritten();
    assert.is(answered.revision, 10);
    assert.ok(answered.written);
    assert.equal(log.lines.map((line) => line.message), ['snapshot not read, folding the whole stream', ...Array(2).fill('snapshot not written; a cold load folds from the one before')]);
    assert.equal(answered.state, (await new CommandHandler(store).load(stockItems, stream)).state);
  } finally {
    await db.pool.query(sql.unsafe`alter table snapshots_away rename to snapshots`);
  }
});

test('a stream longer than a read page is folded to its end, from its start or from a snapshot, and If-Match sees its true revision', async ({ store, snapshots }) => {
  const { storeId, skuId, stream } = await itemWith(store, snapshots, 26);
  const truth = await new CommandHandler(store).load(stockItems, stream);
  assert.is(truth.revision, 26);
  // Pages of 4: from the start, 7 pages; from the snapshot at 20, the event it covers and 6 more in 2 pages.
  assert.equal(await new CommandHandler(store, { readPage: 4 }).load(stockItems, stream), truth);
  assert.equal(await new CommandHandler(store, { readPage: 4, snapshots: { store: snapshots, log: recordingLog(), every: EVERY } }).load(stockItems, stream), truth);
  const answered = await new CommandHandler(store, { readPage: 4 }).handle(stockItems, stream, { type: 'AdjustStock', storeId, skuId, delta: 1, reason: 'received', note: null }, { ...context(), ifMatch: 26 });
  assert.is(answered.revision, 27);
});

test.run();
