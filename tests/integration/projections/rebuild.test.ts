import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rebuildReadModel } from '../../../src/projections/postgres/rebuild.js';
import { newId } from '../../../src/shared/ids.js';
import { stores } from '../../../src/write/aggregates.js';
import { storeStream } from '../../../src/write/streams.js';
import { type Pipeline, startPipeline } from '../../support/pipeline.js';
import { readModelProjections } from '../../../src/projections/postgres/read-model-projections.js';

const run = promisify(execFile);
const test = suite<{ pipeline: Pipeline }>('projections: rebuild while the API keeps answering');

test.before(async (context) => {
  context.pipeline = await startPipeline('rebuild');
});
test.after(async ({ pipeline }) => pipeline.close());

const openStores = async (pipeline: Pipeline, count: number) => {
  let last = 0n;
  for (let i = 0; i < count; i += 1) {
    const storeId = newId();
    last = (await pipeline.commands.handle(stores, storeStream(storeId), { type: 'OpenStore', storeId, name: `S${i}`, code: null, address: null }, { actor: null, correlationId: newId(), now: new Date() })).position;
  }
  return last;
};

test('queries answer throughout a rebuild, and the rebuilt model holds every row', async ({ pipeline }) => {
  await pipeline.reach(await openStores(pipeline, 40));
  const failures: unknown[] = [];
  const counts: number[] = [];
  let querying = true;
  const reader = (async () => {
    while (querying) {
      try {
        counts.push(Number(await pipeline.db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stores`)));
      } catch (error) {
        failures.push(error);
      }
    }
  })();
  // Writes go on during the rebuild too.
  const writing = openStores(pipeline, 20);
  await rebuildReadModel({ databaseUrl: pipeline.db.url, pool: pipeline.db.pool, store: pipeline.store, projections: readModelProjections, batchSize: 7 });
  const last = await writing;
  await pipeline.reach(last);
  querying = false;
  await reader;
  assert.equal(failures, [], 'no query failed');
  assert.ok(counts.length > 10, `queries ran during the rebuild (${counts.length})`);
  assert.ok(counts.every((count) => count >= 40), 'no query saw an empty or partial model');
  assert.is(Number(await pipeline.db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stores`)), 60);
});

test('npm run projections:rebuild reports progress and swaps the model in', async ({ pipeline }) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/projections/rebuild-cli.ts'], {
    env: { ...process.env, DATABASE_URL: pipeline.db.url, LOG_LEVEL: 'info' },
  });
  assert.match(stdout, /rebuild 100\.0%/);
  assert.match(stdout, /rebuild done/);
  assert.is(Number(await pipeline.db.pool.oneFirst(sql.unsafe`select count(*) from read_model.stores`)), 60);
});

test.run();
