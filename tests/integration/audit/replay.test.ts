import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { ReplayRefused, replayReadModel } from '../../../src/projections/postgres/replay.js';
import { ADMIN, type Harness, login, seedStore, startHarness } from '../../support/app.js';
import { assertWritten, sleep } from '../../support/http-assertions.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

interface Context {
  harness: Harness;
  storeId: string;
  skuId: string;
  /** [position written, quantity after] of each change, in order. */
  changes: [bigint, number][];
  midway: string;
}

const test = suite<Context>('audit: replay to a point');

test.before(async (context) => {
  const harness = await startHarness('replay', { ROLES: 'write-api' });
  context.harness = harness;
  const manager = await login(harness, ADMIN.username, ADMIN.password);
  const { storeId, skuId, itemUrl } = await seedStore(harness, manager, 10);
  Object.assign(context, { storeId, skuId });
  context.changes = [];
  for (const [index, delta] of [-2, 5, -1, 4].entries()) {
    const written = assertWritten(await manager.patch(itemUrl, { delta, reason: delta > 0 ? 'received' : 'sold' }));
    const quantity = (context.changes.at(-1)?.[1] ?? 10) + delta;
    context.changes.push([BigInt(written.position), quantity]);
    if (index === 1) {
      await sleep(20);
      context.midway = new Date().toISOString();
      await sleep(20);
    }
  }
});
test.after(async ({ harness }) => harness.close());

const quantityIn = async (harness: Harness, schema: string, storeId: string, skuId: string) =>
  z.bigint().transform(Number).parse(await harness.db.pool.oneFirst(sql.unsafe`select quantity from ${sql.identifier([schema, 'stock'])} where store_id = ${storeId} and sku_id = ${skuId}`));

test('to each position, the read models hold the stock as it stood then, beside the live one', async ({ harness, storeId, skuId, changes }) => {
  for (const [position, quantity] of changes) {
    const result = await replayReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, schema: 'audit_replay', until: position });
    assert.is(result.until, position);
    assert.is(await quantityIn(harness, 'audit_replay', storeId, skuId), quantity, `as of ${position}`);
    const marker = await harness.db.pool.one(sql.unsafe`select position, complete from audit_replay.replayed_until`);
    assert.equal([marker.position, marker.complete], [position, true]);
  }
  assert.ok(await harness.db.pool.exists(sql.unsafe`select 1 from audit_replay.stores where id = ${storeId}`));
});

test('to a time: the events recorded by then', async ({ harness, storeId, skuId, changes, midway }) => {
  const result = await replayReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, schema: 'audit_midway', until: new Date(midway) });
  assert.is(result.until, changes[1]![0]);
  assert.is(await quantityIn(harness, 'audit_midway', storeId, skuId), changes[1]![1]);
});

test('refused: a live schema, a position beyond the head, a time in the future', async ({ harness }) => {
  const replay = (schema: string, until: bigint | Date) => replayReadModel({ databaseUrl: harness.db.url, pool: harness.db.pool, store: harness.eventStore, projections: readModelProjections, schema, until });
  for (const [schema, until] of [
    ['read_model', 1n],
    ['public', 1n],
    ['Bad-Name', 1n],
    ['audit_far', 10_000_000n],
    ['audit_later', new Date(Date.now() + 3_600_000)],
  ] as const) {
    try {
      await replay(schema, until);
      assert.unreachable(`${schema} ${String(until)}`);
    } catch (error) {
      assert.instance(error, ReplayRefused);
    }
  }
  await harness.db.pool.query(sql.unsafe`create schema someone_elses`);
  try {
    await replay('someone_elses', 1n);
    assert.unreachable('a schema that is not a replay');
  } catch (error) {
    assert.instance(error, ReplayRefused);
  }
});

test('npm run replay: with progress, then --drop removes the schema', async ({ harness, storeId, skuId, changes }) => {
  const cli = (args: string[]) =>
    promisify(execFile)('npx', ['tsx', 'src/projections/replay-cli.ts', ...args], { env: { ...process.env, DATABASE_URL: harness.db.url, LOG_LEVEL: 'info' } });
  const { stdout } = await cli(['--until', String(changes[0]![0]), '--schema', 'audit_cli']);
  assert.match(stdout, /rebuild 100\.0%/);
  assert.is(await quantityIn(harness, 'audit_cli', storeId, skuId), changes[0]![1]);
  await cli(['--drop', '--schema', 'audit_cli']);
  assert.not.ok(await harness.db.pool.exists(sql.unsafe`select 1 from pg_namespace where nspname = 'audit_cli'`));
  const refused = await cli(['--drop', '--schema', 'read_model']).then(() => null, (error: { code: number; stderr: string }) => error);
  assert.is(refused?.code, 1);
  assert.match(refused?.stderr ?? '', /schema Stockroom or PostgreSQL uses/);
});

test.run();
