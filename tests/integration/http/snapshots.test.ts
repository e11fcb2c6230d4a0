import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'slonik';
import { z } from 'zod/v4';
import { stockItems } from '../../../src/write/aggregates.js';
import { SNAPSHOT_EVERY } from '../../../src/write/command-handler.js';
import { stockItemStream } from '../../../src/write/streams.js';
import { ADMIN, type Client, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten } from '../../support/http-assertions.js';

/** The app's command handler takes snapshots in PostgreSQL, and answers after a restart as before it. */
const test = suite<{ harness: Harness; manager: Client }>('HTTP: snapshots across a restart');

test.before(async (context) => {
  context.harness = await startHarness('http_snapshots');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

test(`after ${SNAPSHOT_EVERY} adjustments the item has a snapshot; after a restart the next PATCH answers the level and revision a full fold gives`, async ({ harness, manager }) => {
  const { storeId, skuId, itemUrl } = await seedStore(harness, manager, 10);
  let last = 0;
  for (let index = 1; index <= SNAPSHOT_EVERY; index += 1) last = assertWritten(await manager.patch(itemUrl, { delta: 1, reason: 'received' })).revision;
  assert.is(last, SNAPSHOT_EVERY);
  await harness.app.commands.snapshotsWritten();
  const rows = z
    .array(z.object({ fingerprint: z.string(), revision: z.bigint() }))
    .parse(await harness.db.pool.any(sql.unsafe`select fingerprint, revision from snapshots where stream_id = ${stockItemStream(storeId, skuId)}`));
  assert.equal(rows, [{ fingerprint: stockItems.snapshots!.fingerprint, revision: BigInt(SNAPSHOT_EVERY) }]);

  await harness.restart();
  const body = assertWritten(await manager.patch(itemUrl, { delta: -3, reason: 'sold' }));
  assert.is(body.revision, SNAPSHOT_EVERY + 1);
  assert.is(body.quantity, 10 + SNAPSHOT_EVERY - 3);
});

test.run();
