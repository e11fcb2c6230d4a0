import { randomUUID } from 'node:crypto';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { sql } from 'slonik';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureReadModelSchema } from '../../../src/projections/postgres/read-model-schema.js';
import { postgresAuditTrail } from '../../../src/read/audit/trail.js';
import { streamHistory } from '../../../src/read/history.js';
import { readApi } from '../../../src/read/plugin.js';
import { ADMIN, type Harness, login, startHarness } from '../../support/app.js';
import { sleep } from '../../support/http-assertions.js';

/**
 * A large selection exported over a real socket (fastify.inject would buffer the whole
 * body): written straight into the event store by SQL, since 60,000 commands would take a
 * minute and the export does not care how the events got there.
 */
const EVENTS = 60_000;
const PAGE = 500;

interface Context {
  harness: Harness;
  token: string;
  storeId: string;
  pagesRead: number;
  base: string;
}

const test = suite<Context>('audit: exports stream with back-pressure');

test.before(async (context) => {
  const harness = await startHarness('audit-export', { ROLES: 'write-api' });
  context.harness = harness;
  await ensureReadModelSchema(harness.db.url);
  const trail = postgresAuditTrail(harness.db.pool);
  context.pagesRead = 0;
  // Counts the round trips to the database, to see when the export stops reading.
  const counting = {
    page: async (...args: Parameters<typeof trail.page>) => {
      context.pagesRead += 1;
      return trail.page(...args);
    },
  };
  await harness.app.register(readApi, {
    pool: harness.db.pool,
    cursorSecret: 'export-test-cursor-secret',
    history: streamHistory(harness.eventStore),
    trail: counting,
    exportPageSize: PAGE,
  });
  const address = await harness.app.listen({ port: 0, host: '127.0.0.1' });
  context.base = address;
  context.token = (await login(harness, ADMIN.username, ADMIN.password)).token;
  context.storeId = randomUUID();
  const skuId = randomUUID();
  const stream = `stockitem-${context.storeId}_${skuId}`;
  await harness.db.pool.query(sql.unsafe`
    insert into es_streams (stream_id, revision) values (${stream}, ${EVENTS - 1})`);
  await harness.db.pool.query(sql.unsafe`
    insert into es_events (stream_id, revision, event_id, type, data, metadata)
    select ${stream}, g, gen_random_uuid(), 'StockAdjusted',
           jsonb_build_object('delta', 1, 'reason', 'received', 'note', 'delivery note ' || g || repeat(' ', 100), 'quantityAfter', g + 1),
           jsonb_build_object('actor', null, 'correlationId', 'bulk-' || g, 'causationId', null, 'at', now()::text, 'schemaVersion', 1)
      from generate_series(0, ${EVENTS - 1}) g`);
});
test.after(async ({ harness }) => harness.close());

const open = (context: Context, accept: string) =>
  new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = http.get(`${context.base}/api/audit/events?storeId=${context.storeId}`, {
      headers: { authorization: `Bearer ${context.token}`, accept },
    });
    request.on('response', resolve);
    request.on('error', reject);
  });

/** Waits until no page has been read for `quietMs` (a loaded machine fills socket buffers slowly); answers the count. */
async function settled(context: Context, quietMs = 500, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let last = context.pagesRead; ; ) {
    await sleep(quietMs);
    if (context.pagesRead === last) return last;
    assert.ok(Date.now() < deadline, `the export still reads pages after ${timeoutMs} ms (${context.pagesRead})`);
    last = context.pagesRead;
  }
}

test('a client that stops reading stops the export; one that goes away ends it, and no page is read after', async (context) => {
  context.pagesRead = 0;
  const response = await open(context, 'application/x-ndjson');
  try {
    assert.is(response.statusCode, 200);
    await new Promise((resolve) => response.once('data', resolve));
    response.pause();
    const whilePaused = await settled(context);
    assert.ok(whilePaused < EVENTS / PAGE / 2, `read ${whilePaused} of ${EVENTS / PAGE} pages for a client that took one chunk`);
    response.destroy();
    const afterClose = await settled(context);
    assert.ok(afterClose <= whilePaused + 1, 'at most the page already asked for');
  } finally {
    // A failed assertion must not leave the export open: the server's close would wait on it.
    response.destroy();
  }
});

test('a whole export of 60,000 events in bounded memory (measured), ending with its count', async (context) => {
  // What stays reachable, not what the collector has yet to reclaim: collect before each sample.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  let chunks = 0;
  const response = await open(context, 'text/csv');
  let bytes = 0;
  let lines = 0;
  let tail = '';
  for await (const chunk of response) {
    const text = (chunk as Buffer).toString('utf8');
    bytes += text.length;
    lines += text.split('\r\n').length - 1;
    tail = (tail + text).slice(-40);
    chunks += 1;
    if (chunks % 25 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
  }
  const grew = peak - before;
  console.log(`  export: ${(bytes / 1e6).toFixed(1)} MB, ${lines} lines; live heap grew by at most ${(grew / 1e6).toFixed(1)} MB`);
  assert.is(lines, EVENTS + 2, 'a header, every event, the count');
  assert.ok(tail.endsWith(`#count,${EVENTS}\r\n`), tail);
  // Holding the selection would cost more than its text; a page at a time costs a few pages.
  assert.ok(grew < bytes / 4, `heap grew ${grew} bytes for a ${bytes}-byte export`);
});

test.run();
