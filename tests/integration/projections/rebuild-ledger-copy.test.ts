import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import type { AppliedEvent, ProjectedRow } from '../../../src/projections/postgres/projection.js';
import { ensureReadModelSchema, READ_MODEL_NEXT } from '../../../src/projections/postgres/read-model-schema.js';
import { LedgerCopy } from '../../../src/projections/postgres/rebuild-ledger.js';
import type { RecordedEvent } from '../../../src/shared/event-store/port.js';
import type { StockroomEvent } from '../../../src/shared/events/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A rebuild writes the stock ledger through one COPY on a connection of its own (see
 * rebuild-ledger.ts): the rows the insert would write once it finishes, none once it is
 * aborted, and its connection closed either way.
 */
const test = suite<{ db: TestDatabase }>('projections: a rebuild copies the stock ledger');

test.before(async (context) => {
  context.db = await createTestDatabase('rebuild_ledger');
});
test.after(async ({ db }) => db.drop());

const STORE = '0190a0b0-0000-7000-8000-00000000000a';
const SKU = '0190a0b0-0000-7000-8000-00000000000b';

/** One applied StockAdjusted of revision `revision`, its row the level after it. */
function adjusted(revision: number, quantity: number): AppliedEvent {
  const streamId = `stockitem-${STORE}_${SKU}`;
  const position = BigInt(100 + revision);
  const recorded: RecordedEvent = {
    id: `0190a0b0-0000-7000-8000-${String(revision).padStart(12, '0')}`,
    streamId,
    type: 'StockAdjusted',
    data: {},
    metadata: { actor: null, correlationId: 'c', causationId: null, at: new Date(0).toISOString(), schemaVersion: 2 },
    revision,
    position,
    recordedAt: new Date(0),
  };
  const event: StockroomEvent = { type: 'StockAdjusted', data: { delta: 1, reason: 'received', note: null, reference: null, quantityAfter: quantity } };
  const row = { storeId: STORE, skuId: SKU, quantity, lowStockThreshold: 5, removed: false, revision, position } satisfies ProjectedRow & Record<string, unknown>;
  return { recorded, event, row };
}

const ledgerRows = async (db: TestDatabase) =>
  z.array(z.object({ revision: z.bigint(), quantity: z.bigint() })).parse(
    await db.pool.any(sql.unsafe`select revision, quantity from ${sql.identifier([READ_MODEL_NEXT, 'stock_ledger'])} order by revision`),
  );

const copyConnections = async (db: TestDatabase) =>
  Number(await db.pool.oneFirst(sql.unsafe`select count(*) from pg_stat_activity where datname = current_database() and query ilike 'copy %stock_ledger%'`));

test('finished: the ledger holds each applied level, as the insert would write it', async ({ db }) => {
  await ensureReadModelSchema(db.url, READ_MODEL_NEXT, { replace: true });
  const ledger = new LedgerCopy(db.url, READ_MODEL_NEXT);
  await db.pool.transaction(async (tx) => {
    await ledger.projection.apply(tx, READ_MODEL_NEXT, [adjusted(1, 7), adjusted(2, 9)], [], { exclusive: true });
    await ledger.projection.apply(tx, READ_MODEL_NEXT, [adjusted(3, 4)], [], { exclusive: true });
  });
  assert.equal(await ledgerRows(db), [], 'nothing visible before the COPY ends');
  await ledger.finish();
  assert.equal(await ledgerRows(db), [
    { revision: 1n, quantity: 7n },
    { revision: 2n, quantity: 9n },
    { revision: 3n, quantity: 4n },
  ]);
  assert.is(await copyConnections(db), 0, 'its connection is closed');
  // After finish (the swap's own batches), rows go in with the usual insert.
  await db.pool.transaction((tx) => ledger.projection.apply(tx, READ_MODEL_NEXT, [adjusted(4, 5)], [], { exclusive: true }));
  assert.is((await ledgerRows(db)).length, 4);
});

test('aborted (the rebuild failed): nothing it sent stays, and its connection is closed', async ({ db }) => {
  await ensureReadModelSchema(db.url, READ_MODEL_NEXT, { replace: true });
  const ledger = new LedgerCopy(db.url, READ_MODEL_NEXT);
  await db.pool.transaction((tx) => ledger.projection.apply(tx, READ_MODEL_NEXT, [adjusted(1, 7)], [], { exclusive: true }));
  assert.is(await copyConnections(db), 1, 'the COPY is under way');
  await ledger.abort();
  assert.equal(await ledgerRows(db), []);
  assert.is(await copyConnections(db), 0);
});

test.run();
