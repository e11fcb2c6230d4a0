import pg from 'pg';
import { createPool, createTypeParserPreset, type DatabasePool, type Query, sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod/v4';
import { ensureReadModelSchema, READ_MODEL } from '../../../src/projections/postgres/read-model-schema.js';
import { CursorCodec, cursorContext } from '../../../src/read/cursor.js';
import { listPage } from '../../../src/read/list.js';
import { skuList } from '../../../src/read/skus.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

// A page from the middle of a sort on a nullable field (price, category) must cost a page, as
// a first page does: each range of the keyset walked in its index, not the rows before it.

const ROWS = 40_000;
const test = suite<{ db: TestDatabase; pool: DatabasePool; sent: Query[] }>('pages deep in a nullable sort');
const cursors = new CursorCodec('deep-pages-test');
const skus = sql.identifier([READ_MODEL, 'skus']);

test.before(async (context) => {
  context.db = await createTestDatabase('deep_pages');
  await ensureReadModelSchema(context.db.url);
  // Prices 1.00–50.99 and five categories, a fifth of each NULL (as the bench's catalogue).
  await context.db.pool.query(sql.unsafe`
    insert into ${skus} (id, code, name, category, unit, price, low_stock_threshold, revision, position, created_at, updated_at)
    select gen_random_uuid(), 'SKU-' || i, 'Article ' || i, (array['tea', 'coffee', 'snacks', 'household', null])[i % 5 + 1],
           'piece', case when i % 5 = 4 then null else (1 + i % 50) + (i % 100) / 100.0 end, 5, 1, i, now(), now()
      from generate_series(1, ${ROWS}) i`);
  await context.db.pool.query(sql.unsafe`analyze ${skus}`);
  context.sent = [];
  const sent = context.sent;
  context.pool = await createPool(context.db.url, {
    maximumPoolSize: 2,
    typeParsers: createTypeParserPreset(),
    interceptors: [{ name: 'record-sent-queries', beforeQueryExecution: (_context, query) => (sent.push(query), null) }],
  });
});

test.after(async ({ db, pool }) => {
  await pool.end();
  await db.drop();
});

const planRow = z.object({ 'QUERY PLAN': z.array(z.object({ Plan: z.record(z.string(), z.unknown()) })) });

/** Rows every scan of the plan read: those it returned and those its filter threw away. */
function rowsScanned(node: Record<string, unknown>): number {
  const own = String(node['Node Type']).includes('Scan') ? Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0) : 0;
  const children = z.array(z.record(z.string(), z.unknown())).optional().parse(node.Plans) ?? [];
  return own + children.reduce((sum, child) => sum + rowsScanned(child), 0);
}

for (const [sort, middle] of [
  ['price', '25.50'],
  ['-price', '25.50'],
  ['category', 'snacks'],
  ['-category', null],
  ['category,price', 'household'],
] as const) {
  test(`sort=${sort}: a page from the middle reads about a page`, async ({ db, pool, sent }) => {
    const arity = sort.split(',').length;
    const values = arity === 1 ? [middle] : [middle, '20.00'];
    const cursor = cursors.encode(cursorContext('skus', sort, {}), { values, id: '80000000-0000-4000-8000-000000000000' });
    sent.length = 0;
    const page = await listPage({ pool, cursors, spec: skuList, sort, cursor, limit: 50, filters: {}, select: sql.fragment`k.id`, from: sql.fragment`${skus} k`, where: [] }, (row) => row);
    assert.is(page.items.length, 50);
    const [query] = sent;
    assert.ok(query);
    const [explained] = z.array(planRow).parse(await explainAnalyze(db, query));
    const scanned = rowsScanned(explained!['QUERY PLAN'][0]!.Plan);
    assert.ok(scanned < 500, `${scanned} rows read by the scans for a page of 50, of ${ROWS}`);
  });
}

/** The query exactly as listPage sent it, run under EXPLAIN ANALYZE. */
async function explainAnalyze(db: TestDatabase, query: Query): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(`explain (analyze, format json) ${query.sql}`, [...query.values])).rows;
  } finally {
    await client.end();
  }
}

test.run();
