import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendSessionOptions, createAppendPool } from '../../../src/shared/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * The append pool's sessions run without JIT (pool.ts says why: es_append_many's statement
 * is costed past jit_above_cost once es_events grows, and every trip then paid an LLVM
 * compile). Whatever the server's default, and with an operator's PGOPTIONS kept.
 */
const test = suite<{ db: TestDatabase }>("event store: the append pool's sessions");

test.before(async (context) => {
  context.db = await createTestDatabase('append_session');
});
test.after(async ({ db }) => {
  await db.drop();
});

test("every connection of the append pool has JIT off (the server's default is on) and the slonik pool's statement timeout", async ({ db }) => {
  const pool = createAppendPool(db.url, 3);
  try {
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    try {
      for (const client of clients) {
        assert.is((await client.query<{ jit: string }>('show jit')).rows[0]?.jit, 'off');
        assert.is((await client.query<{ statement_timeout: string }>('show statement_timeout')).rows[0]?.statement_timeout, '1min');
      }
    } finally {
      for (const client of clients) client.release();
    }
  } finally {
    await pool.end();
  }
});

test('es_append and es_append_many are estimated at the rows they answer, not 1,000 (migration 030)', async ({ db }) => {
  const { rows } = await db.pool.query(sql.unsafe`select proname, prorows from pg_proc where proname in ('es_append', 'es_append_many') order by proname`);
  assert.equal(
    rows.map((row) => [String(row.proname), Number(row.prorows)]),
    [
      ['es_append', 1],
      ['es_append_many', 50],
    ],
  );
});

test('es_append_many plans its statements once per session: generic plans, set on the function alone (migration 034)', async ({ db }) => {
  const { rows } = await db.pool.query(sql.unsafe`select proname, proconfig from pg_proc where proname in ('es_append', 'es_append_many') order by proname`);
  assert.equal(
    rows.map((row) => [String(row.proname), row.proconfig]),
    [
      ['es_append', null],
      ['es_append_many', ['plan_cache_mode=force_generic_plan']],
    ],
  );
});

test("the setting does not leak: the caller's session keeps its own plan_cache_mode after an es_append_many", async ({ db }) => {
  const pool = createAppendPool(db.url, 1);
  try {
    const stream = `stockitem-leak_${Date.now()}`;
    const event = JSON.stringify([{ id: '018f0000-0000-7000-8000-00000000a034', type: 'T', data: {}, metadata: {} }]);
    const { rows } = await pool.query<{ outcome: string }>('select outcome from es_append_many($1::text[], $2::bigint[], $3::jsonb[])', [[stream], [-1], [event]]);
    assert.equal(rows.map((row) => row.outcome), ['written']);
    assert.is((await pool.query<{ plan_cache_mode: string }>('show plan_cache_mode')).rows[0]?.plan_cache_mode, 'auto');
  } finally {
    await pool.end();
  }
});

test('PGOPTIONS is kept after JIT off, so that an operator may still set anything, JIT included', () => {
  assert.is(appendSessionOptions(undefined), '-c statement_timeout=60000 -c jit=off');
  assert.is(appendSessionOptions('  '), '-c statement_timeout=60000 -c jit=off');
  assert.is(appendSessionOptions('-c statement_timeout=5000'), '-c statement_timeout=60000 -c jit=off -c statement_timeout=5000');
  assert.is(appendSessionOptions('-c jit=on'), '-c statement_timeout=60000 -c jit=off -c jit=on', 'the later setting wins in PostgreSQL');
});

test.run();
