import { type FragmentSqlToken, sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { ensureReadModelSchema, READ_MODEL } from '../../../src/projections/postgres/read-model-schema.js';
import { indexedTextSearch, textSearch } from '../../../src/read/list.js';
import { skuSearchColumns } from '../../../src/read/skus.js';
import { TrigramSamples } from '../../../src/read/trigram-samples.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

// `q` with a word every name holds: the trigram index is asked for the rare words only and
// the whole needle checked on what it finds. The rows must be the ones the plain `like` finds.

const test = suite<{ db: TestDatabase; samples: TrigramSamples }>('q with a common word');

const ids = z.array(z.object({ id: z.string() }));

const matching = async (db: TestDatabase, condition: FragmentSqlToken | null): Promise<string[]> =>
  ids
    .parse(await db.pool.any(sql.unsafe`select k.id from ${sql.identifier([READ_MODEL, 'skus'])} k where ${condition ?? sql.fragment`true`} order by k.id`))
    .map((row) => row.id);

test.before(async (context) => {
  context.db = await createTestDatabase('search_words');
  await ensureReadModelSchema(context.db.url);
  // 3,000 SKUs named as a uniform catalogue names them, a few with odd case and LIKE's characters.
  await context.db.pool.query(sql.unsafe`
    insert into ${sql.identifier([READ_MODEL, 'skus'])} (id, code, name, unit, low_stock_threshold, revision, position, created_at, updated_at)
    select gen_random_uuid(), 'SKU-' || i, case when i % 500 = 0 then 'ARTICLE ' || i || '% Gold' else 'Article ' || i || ' pack' end,
           'piece', 5, 1, i, now(), now()
      from generate_series(1, 3000) i`);
  await context.db.pool.query(sql.unsafe`analyze ${sql.identifier([READ_MODEL, 'skus'])}`);
  context.samples = new TrigramSamples(context.db.pool, READ_MODEL);
});

test.after(async ({ db }) => {
  await db.drop();
});

test('every needle finds the rows the plain like finds, common words or not', async ({ db, samples }) => {
  const needles = ['article 1234', 'Article 12', 'ARTICLE 2500%', 'article 1500% gold', 'pack article', 'cle 99', 'article', '1234 pack', 'sku 12', 'e 1', '12 pack'];
  for (const needle of needles) {
    const plain = await matching(db, textSearch(needle, skuSearchColumns.map((column) => column.expr)));
    const indexed = await matching(db, await indexedTextSearch(needle, skuSearchColumns, samples));
    assert.equal(indexed, plain, `q=${needle}`);
  }
  assert.is((await matching(db, await indexedTextSearch('article 1234', skuSearchColumns, samples))).length, 1);
});

test('the index is asked for the rare word only, the common one is checked on the rows found', async ({ db, samples }) => {
  const condition = await indexedTextSearch('article 1234', skuSearchColumns, samples);
  assert.ok(condition);
  // 3,000 rows fit in a scan; the plan a million rows get is the one asked for here.
  const rows = await db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`set local enable_seqscan = off`);
    return tx.any(sql.unsafe`explain select k.id from ${sql.identifier([READ_MODEL, 'skus'])} k where ${condition}`);
  });
  const plan = z
    .array(z.object({ 'QUERY PLAN': z.string() }))
    .parse(rows)
    .map((row) => row['QUERY PLAN'])
    .join('\n');
  // Names all hold "article": their index is asked for "1234" alone. Codes do not: theirs gets the whole needle.
  const lines = plan.split('\n');
  const conditionOf = (index: string) => lines[lines.findIndex((line) => line.includes(`Bitmap Index Scan on ${index}`)) + 1] ?? '';
  assert.match(conditionOf('skus_name_trgm'), "Index Cond: (lower(name) ~~ '%1234%'::text)", plan);
  assert.match(conditionOf('skus_code_trgm'), "Index Cond: (lower(code) ~~ '%article 1234%'::text)", plan);
});

test('before ANALYZE has sampled the index, the whole needle is looked up', async ({ db }) => {
  const fresh = new TrigramSamples(db.pool, 'no_such_schema');
  const condition = await indexedTextSearch('article 1234', skuSearchColumns, fresh);
  assert.equal(condition, textSearch('article 1234', skuSearchColumns.map((column) => column.expr)));
  assert.equal(await matching(db, condition), await matching(db, textSearch('article 1234', skuSearchColumns.map((column) => column.expr))));
  assert.equal(await fresh.of('skus_name_trgm'), []);
});

test.run();
