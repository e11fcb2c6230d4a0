/**
 * Low-stock mail: how many mails the mailer renders, and how many crossings it records
 * into its outbox, per second.
 *
 * (i)  Rendering one low-stock mail of one item with the project's template
 *      (renderLowStockMail: mjml → HTML, strict validation, plus subject and text), beside
 *      the limit of the part, mjml rendering a trivial one-line document with the same
 *      options, and the peer a user would write instead: the same HTML hand-written as a
 *      template literal (subject and text from the same functions, they are plain strings).
 * (ii) Recording crossings: CrossingRecorder.applyBatch (the mailer's batch path: stream
 *      locks, its stock levels, the crossings, the recipients from the read model, the outbox
 *      rows and the progress row, in one transaction) on batches of 100 adjustments that each
 *      take an item to low stock, one recipient; beside the bare INSERT of the same rows
 *      (100 levels, 100 crossings, 100 outbox rows) into unindexed tables of the same columns,
 *      in one transaction per batch.
 */
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { z } from 'zod/v4';
import mjml from 'mjml';
import { CrossingRecorder } from '../src/projections/mailer/record.js';
import { escapeHtml, type LowStockMail, renderLowStockMail, subjectOf, textOf } from '../src/projections/mailer/template.js';
import { ensureReadModelSchema } from '../src/projections/postgres/read-model-schema.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createDatabasePool } from '../src/shared/db/pool.js';
import type { RecordedEvent } from '../src/shared/event-store/port.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { STOCK_ITEM_CATEGORY } from '../src/shared/hot-model/keys.js';
import { newId } from '../src/shared/ids.js';
import type { BenchConfig } from './support/config.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { checkpoint, withFreshDatabase } from './support/database.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, type RowInput, type Section, toRow } from './support/report.js';
import { type Operation, runTimed, type TimedRunResult } from './support/runner.js';
import { serverCpuProbe } from './support/server-cpu.js';

const SECTION = 'mail';
const TRIVIAL = 'mjml, a one-line document';
const TEMPLATE = 'renderLowStockMail (mjml template)';
const LITERAL = 'template literal (hand-written HTML)';
const BARE_INSERT = 'bare INSERT of the same rows';
const RECORDER = 'CrossingRecorder.applyBatch';
const BATCH = 100;

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

const describeResult = (result: TimedRunResult, unit: string): string =>
  `${count(result.operationsPerSecond)} ${unit}/s, p50 ${result.latency.p50.toFixed(3)} ms, p99 ${result.latency.p99.toFixed(3)} ms, ` +
  `client ${result.cpu.clientMicrosPerOp.toFixed(1)} µs/${unit.replace(/s$/, '')}` +
  (result.serverCpuMicrosPerOp === null ? '' : `, server ${result.serverCpuMicrosPerOp.toFixed(1)} µs`);

const THE_MAIL: LowStockMail = {
  storeName: 'Main Street',
  lines: [
    {
      skuCode: 'TEA-01',
      skuName: 'Green tea',
      quantity: 4,
      lowStockThreshold: 5,
      changedBy: 'sam',
      link: 'http://127.0.0.1:3000/api/inventory/stores/0193a7c2-4f4e-7a51-8d7e-2b9b3f0c1d2e/items/0193a7c2-5a10-7c22-9e41-6c8d2a7b3f90',
      at: new Date('2026-11-25T09:30:00Z'),
    },
  ],
};

const TRIVIAL_MJML = '<mjml><mj-body><mj-section><mj-column><mj-text>Low stock</mj-text></mj-column></mj-section></mj-body></mjml>';

/** The same mail as a user would hand-write it: one template literal, the names escaped, no mjml. */
function literalHtml(mail: LowStockMail): string {
  const rows = mail.lines
    .map(
      (line) => `<tr style="border-bottom:1px solid #e5e5e5">
<td style="padding:6px 8px 6px 0"><a href="${escapeHtml(line.link)}">${escapeHtml(line.skuCode)}</a></td>
<td style="padding:6px 8px">${escapeHtml(line.skuName)}</td>
<td style="padding:6px 8px;text-align:right"><strong>${line.quantity}</strong></td>
<td style="padding:6px 8px;text-align:right">${line.lowStockThreshold}</td>
<td style="padding:6px 0 6px 8px">${escapeHtml(line.changedBy)}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(subjectOf(mail))}</title></head>
<body style="margin:0;background:#f4f4f4;font-family:Helvetica,Arial,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff;padding:20px 25px">
<tr><td style="font-size:20px;font-weight:bold;padding-bottom:10px">Low stock at ${escapeHtml(mail.storeName)}</td></tr>
<tr><td style="padding-bottom:10px">${mail.lines.length === 1 ? 'This item has fallen to its low-stock threshold or below.' : 'These items have fallen to their low-stock threshold or below.'}</td></tr>
<tr><td><table width="100%" cellpadding="0" cellspacing="0" style="font-size:13px">
<tr style="text-align:left"><th style="padding:6px 8px 6px 0">SKU</th><th style="padding:6px 8px">Name</th><th style="padding:6px 8px;text-align:right">Left</th><th style="padding:6px 8px;text-align:right">Threshold</th><th style="padding:6px 0 6px 8px">Changed by</th></tr>
${rows}
</table></td></tr>
<tr><td style="font-size:12px;color:#777777;padding-top:10px">You get this email as a manager or as staff of this store. To stop it: PATCH /api/auth/me {&quot;lowStockEmails&quot;: false}.</td></tr>
</table></td></tr></table>
</body></html>`;
}

/**
 * One caller rendering in a loop. Not runTimed: a render that never waits on I/O keeps the
 * event loop in microtasks, so the timer that opens runTimed's CPU window would not fire.
 */
async function renderLoop(config: BenchConfig, render: () => Promise<number>): Promise<TimedRunResult> {
  const latency = new LatencyHistogram();
  const measureFrom = performance.now() + config.warmupSeconds * 1000;
  while (performance.now() < measureFrom) await render();
  const before = cpuSnapshot();
  const began = performance.now();
  const stopAt = began + config.seconds * 1000;
  for (let now = began; now < stopAt; ) {
    await render();
    const ended = performance.now();
    latency.record(ended - now);
    now = ended;
  }
  const after = cpuSnapshot();
  const summary = latency.summary();
  const seconds = (after.at - began) / 1000;
  return {
    operations: summary.count,
    errors: 0,
    firstError: null,
    elapsedSeconds: seconds,
    operationsPerSecond: summary.count / seconds,
    latency: summary,
    cpu: cpuBetween(before, after, summary.count, availableParallelism()),
    serverCpuMicrosPerOp: null,
  };
}

/** (i) One mail rendered per call, one caller (rendering is CPU work on the event loop). */
async function rendering(config: BenchConfig): Promise<BenchRow[]> {
  const scenario = 'render one low-stock mail (1 item)';
  const subjects: { subject: string; render: () => Promise<number>; note: string }[] = [
    {
      subject: TRIVIAL,
      note: "mjml(<mj-text> in a section, column and body), validationLevel strict, as the template's options",
      render: async () => {
        const { html, errors } = await mjml(TRIVIAL_MJML, { validationLevel: 'strict', keepComments: false });
        if (errors.length > 0) throw new Error(errors.map((error) => error.formattedMessage).join('; '));
        return html.length;
      },
    },
    {
      subject: TEMPLATE,
      note: 'subject, text part and HTML (mjml, strict) of src/projections/mailer/template.ts',
      render: async () => {
        const mail = await renderLowStockMail(THE_MAIL);
        return mail.html.length + mail.text.length;
      },
    },
    {
      subject: LITERAL,
      note: 'the same table as one template literal, names escaped; subject and text by the same functions (subjectOf, textOf)',
      render: async () => subjectOf(THE_MAIL).length + textOf(THE_MAIL).length + literalHtml(THE_MAIL).length,
    },
  ];
  const rows: BenchRow[] = [];
  for (const { subject, render, note } of subjects) {
    const input: Omit<RowInput, 'result'> = { section: SECTION, scenario, subject, workers: 1 };
    try {
      const size = await render();
      progress(`${SECTION}: ${subject}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
      const result = await renderLoop(config, render);
      progress(`${SECTION}: ${subject}: ${describeResult(result, 'mails')}`);
      rows.push(toRow({ ...input, result, note: `${note}; ${count(size)} characters out` }));
    } catch (error) {
      progress(`${SECTION}: ${subject} failed: ${describeError(error)}`);
      rows.push(failedRow(input, describeError(error)));
    }
  }
  return compareTo(rows, (row) => (row.subject === TEMPLATE ? TRIVIAL : null));
}

/** A runTimed result per batch, restated per crossing (latency stays per batch). */
const perCrossing = (result: TimedRunResult, batch: number): TimedRunResult => ({
  ...result,
  operations: result.operations * batch,
  operationsPerSecond: result.operationsPerSecond * batch,
  cpu: {
    clientMicrosPerOp: result.cpu.clientMicrosPerOp / batch,
    hostBusyPercent: result.cpu.hostBusyPercent,
    hostMicrosPerOp: result.cpu.hostMicrosPerOp === null ? null : result.cpu.hostMicrosPerOp / batch,
  },
  serverCpuMicrosPerOp: result.serverCpuMicrosPerOp === null ? null : result.serverCpuMicrosPerOp / batch,
});

const metadata = (actor: string) => ({ actor, correlationId: newId(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 });

/** (ii) Crossings recorded into the outbox, per second, beside a bare INSERT of the same rows. */
async function recording(config: BenchConfig): Promise<BenchRow[]> {
  const scenario = `record crossings into the outbox, batches of ${BATCH}`;
  const input = (subject: string): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1 });
  // Items that can each cross once; the recorder's cell stops (and says so) if it uses them all.
  const items = 40_000;
  const rows: BenchRow[] = [];
  try {
    await withFreshDatabase('mail', async (database) => {
      await migrate(database.url);
      await ensureReadModelSchema(database.url);
      const pool = await createDatabasePool(database.url, { maximumPoolSize: 4 });
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        // One recipient: a manager with an email, as the read model's users table holds them.
        const managerId = newId();
        await client.query(
          `insert into read_model.users (id, username, email, role, revision, position, created_at, updated_at)
           values ($1, 'admin', 'admin@example.com', 'manager', 0, 1, now(), now())`,
          [managerId],
        );
        const store = new PostgresEventStore(pool);
        const recorder = new CrossingRecorder(pool, store);
        const storeId = newId();
        const streams = Array.from({ length: items }, () => `${STOCK_ITEM_CATEGORY}-${storeId}_${newId()}`);
        let position = 0n;
        const recorded = (streamId: string, revision: number, type: string, data: object): RecordedEvent => {
          position += 1n;
          return { id: newId(), streamId, type, data, metadata: metadata(managerId), revision, position, recordedAt: new Date() };
        };

        // The items, each at 100 with a threshold of 5 (not low: no crossing yet), applied unmeasured.
        progress(`${SECTION}: ${count(items)} stock items into the mailer's levels (StockItemAdded through applyBatch, unmeasured)`);
        for (let start = 0; start < items; start += 1_000) {
          const events = streams.slice(start, start + 1_000).map((streamId) => {
            const [, skuId = ''] = streamId.slice(streamId.indexOf('-') + 1).split('_');
            return recorded(streamId, 0, 'StockItemAdded', { storeId, skuId, quantity: 100, lowStockThreshold: 5 });
          });
          await recorder.applyBatch({ events, partition: 0, through: position });
        }
        // This server runs without autovacuum: statistics for the tables that have rows (the
        // crossings and outbox tables start empty and are left to the planner's defaults, as
        // autovacuum would leave them until they grow).
        await client.query('analyze mail_stock_levels, read_model.users');
        await checkpoint(database.url);

        // The recorder: each batch sells 96 of 100 items not yet crossed, each now low (4 ≤ 5).
        let next = 0;
        let owed = 0;
        progress(`${SECTION}: ${RECORDER}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        try {
          const serverCpu = await serverCpuProbe(database.url);
          const result = await runTimed({
            workers: 1,
            warmupMs: config.warmupSeconds * 1000,
            durationMs: config.seconds * 1000,
            maxConsecutiveErrors: 1,
            serverCpu,
            createWorker: (): Operation => async () => {
              if (next + BATCH > items) throw new Error(`ran out of the ${count(items)} prepared items`);
              const events = streams
                .slice(next, next + BATCH)
                .map((streamId) => recorded(streamId, 1, 'StockAdjusted', { delta: -96, reason: 'sold', note: null, quantityAfter: 4 }));
              next += BATCH;
              const added = await recorder.applyBatch({ events, partition: 0, through: position });
              if (added !== BATCH) throw new Error(`a batch of ${BATCH} crossings owed ${added} mails`);
              owed += added;
            },
          }).finally(() => serverCpu.end());
          const check = z
            .object({ crossings: z.coerce.number(), outbox: z.coerce.number() })
            .parse((await client.query('select (select count(*) from mail_crossings) as crossings, (select count(*) from mail_outbox) as outbox')).rows[0]);
          const checked =
            check.crossings === next && check.outbox === owed
              ? `checked: ${count(check.crossings)} crossings, ${count(check.outbox)} outbox rows (warm-up included)`
              : `WRONG: ${check.crossings} crossings for ${next} adjustments, ${check.outbox} outbox rows for ${owed}`;
          const scaled = perCrossing(result, BATCH);
          progress(`${SECTION}: ${RECORDER}: ${describeResult(scaled, 'crossings')}; ${checked}`);
          rows.push(
            toRow({
              ...input(RECORDER),
              result: checked.startsWith('checked') ? scaled : { ...scaled, errors: scaled.errors + 1, firstError: checked },
              note: `per crossing: 1 level upsert, 1 crossing, 1 outbox row (one recipient), under a stream lock; p50/p99 per batch; ${checked}`,
            }),
          );
        } catch (error) {
          progress(`${SECTION}: ${RECORDER} failed: ${describeError(error)}`);
          rows.push(failedRow(input(RECORDER), describeError(error)));
        }

        // The baseline: the same three sets of rows, bare, into unindexed tables of the same columns.
        await client.query(`create table bare_levels (like mail_stock_levels including defaults);
                            create table bare_crossings (like mail_crossings including defaults);
                            create table bare_outbox (like mail_outbox including defaults)`);
        await checkpoint(database.url);
        let bareNext = 0;
        const bare = new pg.Client({ connectionString: database.url });
        await bare.connect();
        progress(`${SECTION}: ${BARE_INSERT}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
        try {
          const serverCpu = await serverCpuProbe(database.url);
          const result = await runTimed({
            workers: 1,
            warmupMs: config.warmupSeconds * 1000,
            durationMs: config.seconds * 1000,
            maxConsecutiveErrors: 1,
            serverCpu,
            createWorker: (): Operation => async () => {
              const ids = Array.from({ length: BATCH }, () => newId());
              const streamIds = ids.map((skuId) => `${STOCK_ITEM_CATEGORY}-${storeId}_${skuId}`);
              const storeIds = ids.map(() => storeId);
              const positions = ids.map((_, index) => String(bareNext + index + 1));
              bareNext += BATCH;
              await bare.query('begin');
              await bare.query(
                `insert into bare_levels (stream_id, store_id, sku_id, quantity, low_stock_threshold, removed, low, revision, position)
                 select s, $2, k, 4, 5, false, true, 1, p from unnest($1::text[], $3::uuid[], $4::bigint[]) as x(s, k, p)`,
                [streamIds, storeId, ids, positions],
              );
              await bare.query(
                `insert into bare_crossings (stream_id, revision, store_id, sku_id, quantity, low_stock_threshold, actor, occurred_at, historical)
                 select s, 1, $2, k, 4, 5, $4, now(), false from unnest($1::text[], $3::uuid[]) as x(s, k)`,
                [streamIds, storeId, ids, managerId],
              );
              await bare.query(
                `insert into bare_outbox (stream_id, revision, recipient_user_id, recipient_email, store_id)
                 select s, 1, $2, 'admin@example.com', st from unnest($1::text[], $3::uuid[]) as x(s, st)`,
                [streamIds, managerId, storeIds],
              );
              await bare.query('commit');
            },
          }).finally(() => serverCpu.end());
          const scaled = perCrossing(result, BATCH);
          progress(`${SECTION}: ${BARE_INSERT}: ${describeResult(scaled, 'crossings')}`);
          rows.push(
            toRow({
              ...input(BARE_INSERT),
              result: scaled,
              note: `per batch: begin, ${BATCH} rows into each of 3 unindexed tables (INSERT … SELECT FROM unnest), commit; pg client; p50/p99 per batch`,
            }),
          );
        } catch (error) {
          progress(`${SECTION}: ${BARE_INSERT} failed: ${describeError(error)}`);
          rows.push(failedRow(input(BARE_INSERT), describeError(error)));
        } finally {
          await bare.end().catch(() => {});
        }
      } finally {
        await client.end().catch(() => {});
        await pool.end().catch(() => {});
      }
    });
  } catch (error) {
    progress(`${SECTION}: recording failed: ${describeError(error)}`);
    rows.push(failedRow(input(RECORDER), describeError(error)));
  }
  const order = [BARE_INSERT, RECORDER];
  rows.sort((a, b) => order.indexOf(a.subject) - order.indexOf(b.subject));
  return compareTo(rows, (row) => (row.subject === RECORDER ? BARE_INSERT : null));
}

export async function runMail(config: BenchConfig): Promise<BenchRow[]> {
  return [...(await rendering(config)), ...(await recording(config))];
}

export const mailSection: Section = {
  id: SECTION,
  title: 'Mail: rendering and recording low-stock mails',
  workersLabel: 'callers',
  run: ({ config }) => runMail(config),
  legend: [
    'render: mails rendered per second by one caller in this process; p50/p99 per mail. Limit of the part: mjml on a one-line document',
    '("rate vs baseline" of the template is against it); the peer, a hand-written template literal, is a row of its own.',
    'record: ops/s are crossings per second (batches of 100, one at a time); p50/p99 per batch; CPU columns per crossing',
    "(client: this process; server: the database's PostgreSQL backends). Baseline: the same rows written bare, one transaction per batch.",
  ].join('\n'),
};
