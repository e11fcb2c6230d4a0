/**
 * Live updates: how many `stock` frames /ws delivers, and how soon after a command.
 *
 * (a) Fan-out. The real /ws endpoint: buildApp with ROLES=read-api,notifier and the
 *     Notifier over an InProcessBus, listening on a port; 1,000 `ws` clients (in a worker
 *     thread of this process, so that the server keeps the main thread to itself) log in
 *     with one manager token and subscribe to the same store. The items' StockItemAdded
 *     events are published once the clients have subscribed (the notifier learns the levels;
 *     the clients drop them as older than their subscription). Stock item events are
 *     appended to the PostgreSQL event store once the clients have subscribed (so that
 *     they are after their `subscribed` position) and read back with readAll, then
 *     published straight onto the bus, batch by batch, as the forwarder would; no forwarder
 *     runs. Beside it, the peer a user would write: a bare `ws` WebSocketServer that sends
 *     the same frames (the same bytes: stockFrame of the same changes) to 1,000 clients
 *     with `for (const client of wss.clients) client.send(frame)`.
 *     Two cells each: flat out (a closed loop: one change per send, at most 40 changes not
 *     yet delivered to every client), and paced at BENCH_LIVE_RATE changes/s. One change per
 *     send for both: the peer's natural loop is frame by frame over every client, and so is
 *     Stockroom's when a release carries one change (with several, it sends client by client,
 *     which the clients read in fewer wake-ups: a different comparison).
 * (b) Command → frame, through a real Kafka broker: app (write API, read API, /ws),
 *     forwarder, PostgreSQL projector and notifier in this process on a topic of the
 *     bench's own, one subscribed client; one PATCH at a time, and from its answer the
 *     time until the client has its `stock` frame, and (the same command) until a GET
 *     with X-Min-Position answers with it.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { buildApp } from '../src/app.js';
import { Forwarder } from '../src/projections/forwarder.js';
import { Notifier } from '../src/projections/notifier/notifier.js';
import { ensureReadModelSchema } from '../src/projections/postgres/read-model-schema.js';
import { startPostgresProjector } from '../src/projections/postgres/run.js';
import { stockFrame } from '../src/read/ws/protocol.js';
import { migrate } from '../src/shared/db/migrate.js';
import { createDatabasePool, type DatabasePool } from '../src/shared/db/pool.js';
import { InProcessBus } from '../src/shared/event-bus/in-process.js';
import type { BusSubscription } from '../src/shared/event-bus/port.js';
import type { RecordedEvent } from '../src/shared/event-store/port.js';
import { PostgresEventStore } from '../src/shared/event-store/postgres/index.js';
import { itemOfStream, STOCK_ITEM_CATEGORY } from '../src/shared/hot-model/keys.js';
import { newId } from '../src/shared/ids.js';
import type { StockChange } from '../src/shared/live/stock-changes.js';
import { benchBus, deleteTopic, NO_BROKER } from './support/kafka.js';
import type { BenchConfig } from './support/config.js';
import { cpuBetween, cpuSnapshot } from './support/cpu.js';
import { withFreshDatabase } from './support/database.js';
import { LatencyHistogram } from './support/latency.js';
import { describeError, progress } from './support/progress.js';
import { type BenchRow, compareTo, failedRow, type RowInput, type Section, toRow } from './support/report.js';
import type { TimedRunResult } from './support/runner.js';
import { benchConfig, inParallel, JWT_SECRET, managerToken } from './support/stockroom.js';
import { hrtimeMs, WsClients } from './support/ws-clients.js';
import { readModelProjections } from '../src/projections/postgres/read-model-projections.js';

const SECTION = 'live';
const BARE = 'bare ws broadcast';
const STOCKROOM = 'Stockroom /ws (notifier, in-process bus)';
const ITEMS = 100;
const BATCH = 1;
const WINDOW = 40;

const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const quiet = { info() {}, warn() {}, error() {} };
const reporting = {
  info() {},
  warn(obj: object, msg?: string) {
    progress(`${SECTION}: warn: ${msg ?? ''} ${describeError((obj as { err?: unknown }).err ?? '')}`);
  },
  error(obj: object, msg?: string) {
    progress(`${SECTION}: error: ${msg ?? ''} ${describeError((obj as { err?: unknown }).err ?? '')}`);
  },
};

/** Sends the next changes to every client; answers how many it sent (0: none left). */
interface Feeder {
  publish(changes: number): Promise<number>;
}

/** One subject's clients and what was sent to them: change k (from 1) was sent at sentAt[k]. */
interface Channel {
  clients: WsClients;
  feeder: Feeder;
  sent: number;
  sentAt: number[];
}

async function send(channel: Channel, changes: number): Promise<number> {
  const at = hrtimeMs();
  const sent = await channel.feeder.publish(changes);
  for (let index = 1; index <= sent; index += 1) channel.sentAt[channel.sent + index] = at;
  channel.sent += sent;
  return sent;
}

type Pace = { kind: 'flat'; batch: number; window: number } | { kind: 'paced'; rate: number };

interface CellOutcome {
  result: TimedRunResult;
  note: string;
}

/**
 * One fan-out cell: a warm-up, then the measured window. Frames per second count the
 * changes that reached the last client inside the window, times the clients; p50/p99 are
 * from a change's send to its arrival at the last client, over the changes sent in the window.
 */
async function fanOut(channel: Channel, pace: Pace, config: BenchConfig): Promise<CellOutcome> {
  const { clients } = channel;
  const began = hrtimeMs();
  const measureFrom = began + config.warmupSeconds * 1000;
  const stopAt = measureFrom + config.seconds * 1000;
  let opened: { cpu: ReturnType<typeof cpuSnapshot>; server: EventLoopUtilization; client: EventLoopUtilization; first: number; at: number } | null = null;
  let exhausted = false;
  const open = () => {
    opened ??= { cpu: cpuSnapshot(), server: performance.eventLoopUtilization(), client: clients.loopUse(), first: channel.sent + 1, at: hrtimeMs() };
  };
  if (pace.kind === 'flat') {
    const inFlight = pace.batch * pace.window;
    for (;;) {
      const now = hrtimeMs();
      if (now >= measureFrom) open();
      if (now >= stopAt) break;
      if (channel.sent - clients.completeThrough >= inFlight) {
        await clients.until(channel.sent - inFlight + 1, 10_000);
        continue;
      }
      if ((await send(channel, pace.batch)) === 0) {
        exhausted = true;
        break;
      }
    }
  } else {
    const interval = 1000 / pace.rate;
    let next = hrtimeMs();
    for (;;) {
      const wait = next - hrtimeMs();
      if (wait > 0) await sleep(wait);
      const now = hrtimeMs();
      if (now >= measureFrom) open();
      if (now >= stopAt) break;
      if (clients.lost) throw new Error(clients.lost);
      if (channel.sent - clients.completeThrough > pace.rate * 5) throw new Error(`more than 5 s of changes not delivered at ${pace.rate} changes/s`);
      if ((await send(channel, 1)) === 0) {
        exhausted = true;
        break;
      }
      next += interval;
    }
  }
  open();
  const window = opened!;
  const closedAt = hrtimeMs();
  const cpu = cpuBetween(window.cpu, cpuSnapshot(), 1, availableParallelism());
  const processMicros = cpu.clientMicrosPerOp;
  const server = performance.eventLoopUtilization(window.server);
  const client = clients.loopUse(window.client);
  const last = channel.sent;
  await clients.until(last, 30_000);

  const seconds = (closedAt - window.at) / 1000;
  let deliveredInWindow = 0;
  for (let k = 1; k <= last; k += 1) {
    const at = clients.allAt[k] ?? Number.NaN;
    if (at >= window.at && at <= closedAt) deliveredInWindow += 1;
  }
  const toAll = new LatencyHistogram();
  const toFirst = new LatencyHistogram();
  for (let k = window.first; k <= last; k += 1) {
    const sentAt = channel.sentAt[k] ?? Number.NaN;
    toAll.record((clients.allAt[k] ?? Number.NaN) - sentAt);
    toFirst.record((clients.firstAt[k] ?? Number.NaN) - sentAt);
  }
  const frames = deliveredInWindow * clients.opened;
  const perFrame = (elu: EventLoopUtilization) => (frames > 0 ? (elu.active * 1000) / frames : Number.NaN);
  const latency = toAll.summary();
  const stats = await clients.stats();
  const note = [
    `${count(deliveredInWindow / seconds)} changes/s to ${count(clients.opened)} clients`,
    pace.kind === 'flat' ? `${pace.batch === 1 ? 'one change' : `${pace.batch} changes`} per send, ≤ ${pace.batch * pace.window} changes undelivered` : `${pace.rate} changes/s offered, one per send`,
    ...(pace.kind === 'paced' ? [`first client p50 ${toFirst.summary().p50.toFixed(2)} ms`] : []),
    `frame ${count(stats.bytes / Math.max(1, stats.frames))} bytes`,
    `event loop busy: server ${Math.round(server.utilization * 100)}%, clients ${Math.round(client.utilization * 100)}%`,
    `process CPU (both threads) ${frames > 0 ? (processMicros / frames).toFixed(1) : '—'} µs/frame`,
    ...(pace.kind === 'flat' ? ['no latency: it would be the wait in a full window'] : []),
    ...(stats.orderErrors > 0 ? [`OUT OF ORDER: ${stats.orderErrors} (${stats.firstOrderError ?? ''})`] : []),
    ...(exhausted ? ['RAN OUT OF PREPARED CHANGES before the window closed'] : []),
  ].join('; ');
  return {
    note,
    result: {
      operations: frames,
      errors: stats.orderErrors,
      firstError: stats.firstOrderError,
      elapsedSeconds: seconds,
      operationsPerSecond: frames / seconds,
      // Flat out, a change waits behind the window (in the bus for Stockroom, in the loop for the peer): not a latency of the part.
      latency: pace.kind === 'flat' ? { ...latency, p50: Number.NaN, p99: Number.NaN } : latency,
      cpu: { clientMicrosPerOp: perFrame(client), hostBusyPercent: cpu.hostBusyPercent, hostMicrosPerOp: cpu.hostMicrosPerOp === null || frames === 0 ? null : cpu.hostMicrosPerOp / frames },
      serverCpuMicrosPerOp: perFrame(server),
    },
  };
}

/** The same change as the notifier makes of an adjustment of a known item (what stockFrame is given). */
function changeOf(recorded: RecordedEvent, lowStockThreshold: number): StockChange {
  const data = recorded.data as { quantityAfter: number; reason: string };
  return {
    ...itemOfStream(recorded.streamId),
    quantity: data.quantityAfter,
    lowStockThreshold,
    removed: false,
    revision: recorded.revision,
    position: recorded.position,
    event: recorded.type,
    reason: data.reason,
    actor: recorded.metadata.actor,
    at: recorded.recordedAt,
  };
}

const metadata = (actor: string) => ({ actor, correlationId: newId(), causationId: null, at: new Date().toISOString(), schemaVersion: 1 });

interface Runs {
  flat: CellOutcome | Error;
  paced: CellOutcome | Error;
}

async function cells(label: string, channel: Channel, config: BenchConfig): Promise<Runs> {
  const run = async (pace: Pace, what: string): Promise<CellOutcome | Error> => {
    progress(`${SECTION}: ${label}, ${what}: ${config.warmupSeconds} s warm-up + ${config.seconds} s`);
    try {
      const outcome = await fanOut(channel, pace, config);
      const { result } = outcome;
      progress(
        `${SECTION}: ${label}, ${what}: ${count(result.operationsPerSecond)} frames/s` +
          (Number.isFinite(result.latency.p50) ? `, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms` : '') +
          `; ${outcome.note}`,
      );
      return outcome;
    } catch (error) {
      progress(`${SECTION}: ${label}, ${what} failed: ${describeError(error)}`);
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  const flat = await run({ kind: 'flat', batch: BATCH, window: WINDOW }, 'flat out');
  const paced = await run({ kind: 'paced', rate: config.liveRate }, `${config.liveRate} changes/s`);
  return { flat, paced };
}

/** (a) Stockroom's /ws and the bare broadcast, each to the same number of clients. */
async function fanOutCells(config: BenchConfig): Promise<BenchRow[]> {
  const clientCount = config.liveClients;
  const scenarios = {
    flat: `fan-out to ${count(clientCount)} clients, flat out`,
    paced: `fan-out to ${count(clientCount)} clients, ${config.liveRate} changes/s`,
  };
  const rows: BenchRow[] = [];
  const push = (subject: string, runs: Runs | Error, extra = '') => {
    for (const key of ['flat', 'paced'] as const) {
      const input: Omit<RowInput, 'result'> = { section: SECTION, scenario: scenarios[key], subject, workers: clientCount };
      const outcome = runs instanceof Error ? runs : runs[key];
      if (outcome instanceof Error) rows.push(failedRow(input, outcome.message));
      else rows.push(toRow({ ...input, result: outcome.result, note: extra ? `${outcome.note}; ${extra}` : outcome.note }));
    }
  };

  // Changes for both cells of a subject, appended once and sent to each subject in turn.
  // ~150,000 frames/s would be 3× what this 2-core host reaches; a run that uses them all says so.
  const cellSeconds = config.seconds + config.warmupSeconds;
  const rounds = Math.ceil(Math.min(200, Math.max(40, (150_000 * cellSeconds) / clientCount / ITEMS + (config.liveRate * cellSeconds) / ITEMS)));
  let prepared: RecordedEvent[] = [];
  let threshold = 5;

  try {
    await withFreshDatabase('live', async (database) => {
      await migrate(database.url);
      await ensureReadModelSchema(database.url);
      const pool = await createDatabasePool(database.url);
      const store = new PostgresEventStore(pool);
      const bus = new InProcessBus();
      const notifier = new Notifier({ bus, store, log: reporting });
      let app: Awaited<ReturnType<typeof buildApp>> | null = null;
      let clients: WsClients | null = null;
      try {
        const token = await managerToken(pool);
        const actor = newId();
        const storeId = newId();
        const streams = Array.from({ length: ITEMS }, () => `${STOCK_ITEM_CATEGORY}-${storeId}_${newId()}`);
        progress(`${SECTION}: ${ITEMS} stock items of one store, then ${count(clientCount)} clients of /ws`);
        await inParallel(streams, 16, async (stream) => {
          const { storeId: store_, skuId } = itemOfStream(stream);
          await store.append(stream, [{ id: newId(), type: 'StockItemAdded', data: { storeId: store_, skuId, quantity: 100_000, lowStockThreshold: threshold }, metadata: metadata(actor) }], 'no_stream');
        });
        await notifier.start();
        app = await buildApp({ config: benchConfig('read-api,notifier'), pool, eventStore: store, jwtSecret: JWT_SECRET, logger: false, live: notifier });
        await app.listen({ port: 0, host: '127.0.0.1' });
        const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`;
        const opening = hrtimeMs();
        clients = await WsClients.open({
          url,
          clients: clientCount,
          authorization: `Bearer ${token}`,
          subscribe: JSON.stringify({ type: 'subscribe', storeIds: [storeId] }),
          concurrency: 50,
        });
        const openNote = `${count(clients.opened)} clients opened (token in the upgrade) and subscribed in ${((hrtimeMs() - opening) / 1000).toFixed(1)} s`;
        progress(`${SECTION}: ${openNote}; ${app.liveConnections()} sockets on the server`);

        // The items' first events, published as the forwarder would have: the notifier learns
        // their levels (no event-store read in the cells), the clients drop them (at or below
        // their `subscribed` position), as a client does when a change is older than its subscription.
        const head = await store.headPosition();
        const added = await store.readAll({ after: 0n, maxCount: 10_000 });
        await bus.publish(added, head);
        for (const deadline = Date.now() + 10_000; notifier.position < head; await sleep(10)) {
          if (Date.now() > deadline) throw new Error(`the notifier did not take in the items (at ${notifier.position}, head ${head})`);
        }

        // Appended after the clients subscribed: every change is past their `subscribed` position.
        progress(`${SECTION}: appending ${count(rounds * ITEMS)} adjustments (${rounds} per item, round robin), to publish later`);
        for (let round = 1; round <= rounds; round += 1) {
          await inParallel(streams, 16, async (stream) => {
            await store.append(
              stream,
              [{ id: newId(), type: 'StockAdjusted', data: { delta: 1, reason: 'received', note: null, quantityAfter: 100_000 + round }, metadata: metadata(actor) }],
              round - 1,
            );
          });
        }
        for (let after = head; ; ) {
          const page = await store.readAll({ after, maxCount: 5_000 });
          if (page.length === 0) break;
          prepared.push(...page);
          after = page.at(-1)!.position;
        }
        progress(`${SECTION}: ${count(prepared.length)} events read back (positions ${prepared[0]?.position}…${prepared.at(-1)?.position})`);

        let cursor = 0;
        const events = prepared;
        const feeder: Feeder = {
          async publish(changes) {
            const batch = events.slice(cursor, cursor + changes);
            if (batch.length === 0) return 0;
            cursor += batch.length;
            await bus.publish(batch, batch.at(-1)!.position);
            return batch.length;
          },
        };
        const runs = await cells(STOCKROOM, { clients, feeder, sent: 0, sentAt: [] }, config);
        push(STOCKROOM, runs, `${openNote}; ${count(cursor)} of ${count(events.length)} prepared changes published`);
      } finally {
        await clients?.close().catch(() => {});
        await app?.close().catch(() => {});
        await notifier.stop().catch(() => {});
        await bus.close().catch(() => {});
        await pool.end().catch(() => {});
      }
    });
  } catch (error) {
    progress(`${SECTION}: ${STOCKROOM} failed: ${describeError(error)}`);
    push(STOCKROOM, error instanceof Error ? error : new Error(String(error)));
  }

  // The peer: the frames stockFrame makes of the same changes, broadcast by a bare ws server.
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let clients: WsClients | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    if (prepared.length === 0) {
      // Stockroom's side could not prepare them: frames of the same shape.
      const storeId = newId();
      const skus = Array.from({ length: ITEMS }, () => newId());
      const actor = newId();
      prepared = Array.from({ length: rounds * ITEMS }, (_, index) => ({
        id: newId(),
        streamId: `${STOCK_ITEM_CATEGORY}-${storeId}_${skus[index % ITEMS]}`,
        type: 'StockAdjusted',
        data: { delta: 1, reason: 'received', note: null, quantityAfter: 100_000 + Math.floor(index / ITEMS) + 1 },
        metadata: metadata(actor),
        revision: Math.floor(index / ITEMS) + 1,
        position: BigInt(ITEMS + index + 1),
        recordedAt: new Date(),
      }));
      threshold = 5;
    }
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const opening = hrtimeMs();
    clients = await WsClients.open({ url, clients: clientCount, authorization: null, subscribe: null, concurrency: 50 });
    while (server.clients.size < clientCount) await sleep(10);
    const openNote = `${count(clients.opened)} clients opened in ${((hrtimeMs() - opening) / 1000).toFixed(1)} s`;
    let cursor = 0;
    const events = prepared;
    const feeder: Feeder = {
      async publish(changes) {
        const batch = events.slice(cursor, cursor + changes);
        cursor += batch.length;
        for (const recorded of batch) {
          const frame = stockFrame(changeOf(recorded, threshold));
          for (const client of server.clients) client.send(frame);
        }
        return batch.length;
      },
    };
    push(BARE, await cells(BARE, { clients, feeder, sent: 0, sentAt: [] }, config), `one JSON.stringify per change, ws.send(string) to every client; ${openNote}`);
  } catch (error) {
    progress(`${SECTION}: ${BARE} failed: ${describeError(error)}`);
    push(BARE, error instanceof Error ? error : new Error(String(error)));
  } finally {
    await clients?.close().catch(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  const order = [BARE, STOCKROOM];
  rows.sort((a, b) => a.scenario.localeCompare(b.scenario) || order.indexOf(a.subject) - order.indexOf(b.subject));
  return compareTo(rows, (row) => (Number.isFinite(row.operationsPerSecond) ? BARE : null));
}

const latencyRow = (input: Omit<RowInput, 'result'>, histogram: LatencyHistogram, errors: number, firstError: string | null, note: string): BenchRow =>
  toRow({
    ...input,
    note,
    result: {
      operations: histogram.count,
      errors,
      firstError,
      elapsedSeconds: Number.NaN,
      operationsPerSecond: Number.NaN,
      latency: histogram.summary(),
      cpu: { clientMicrosPerOp: Number.NaN, hostBusyPercent: null, hostMicrosPerOp: null },
      serverCpuMicrosPerOp: null,
    },
  });

/** (b) From a PATCH's answer to its `stock` frame on a subscribed client, through Kafka; and to a GET with X-Min-Position. */
async function commandToFrame(config: BenchConfig): Promise<BenchRow[]> {
  const partitions = config.kafkaPartitions;
  const scenario = `command answered → seen (Kafka, ${partitions} partitions)`;
  const input = (subject: string, diagnostic = false): Omit<RowInput, 'result'> => ({ section: SECTION, scenario, subject, workers: 1, diagnostic });
  const subjects = {
    released: 'notifier released it',
    frame: 'stock frame on a subscribed websocket',
    api: 'GET with X-Min-Position answered',
  };
  const brokers = config.kafkaBrokers;
  if (!brokers) {
    return [failedRow(input(subjects.frame), NO_BROKER), failedRow(input(subjects.api), NO_BROKER)];
  }
  const tag = randomBytes(4).toString('hex');
  const topic = `stockroom-bench-${tag}`;
  const group = `stockroom-bench-projector-${tag}`;
  const notifierGroup = `stockroom-bench-notifier-${tag}`;
  try {
    return await withFreshDatabase('live_kafka', async (database) => {
      await migrate(database.url);
      await ensureReadModelSchema(database.url);
      const pool: DatabasePool = await createDatabasePool(database.url);
      const store = new PostgresEventStore(pool);
      const bus = benchBus(SECTION, brokers, topic, partitions);
      let forwarder: Forwarder | null = null;
      let projector: BusSubscription | null = null;
      const notifier = new Notifier({ bus, store, log: reporting, group: notifierGroup });
      let app: Awaited<ReturnType<typeof buildApp>> | null = null;
      let socket: WebSocket | null = null;
      try {
        // The loop of startBackground (projector, notifier, then forwarder), on the bench's own topic and groups.
        await bus.ensureTopic();
        projector = await startPostgresProjector({ bus, pool, store, projections: readModelProjections, log: quiet, group });
        await notifier.start();
        forwarder = new Forwarder({ store, bus, pool, databaseUrl: database.url, log: quiet });
        forwarder.start();
        app = await buildApp({ config: benchConfig('write-api,read-api,notifier'), pool, eventStore: store, jwtSecret: JWT_SECRET, logger: false, live: notifier });
        await app.listen({ port: 0, host: '127.0.0.1' });
        const token = await managerToken(pool);
        const headers = { authorization: `Bearer ${token}` };
        const server = app;
        const post = async <T>(url: string, payload: object): Promise<T> => {
          const response = await server.inject({ method: 'POST', url, headers, payload });
          if (response.statusCode !== 201) throw new Error(`POST ${url}: ${response.statusCode} ${response.body}`);
          return response.json<T>();
        };
        const { id: storeId } = await post<{ id: string }>('/api/stores', { name: 'Live store' });
        const items: string[] = [];
        for (let index = 0; index < 60; index += 1) {
          const { id: skuId } = await post<{ id: string }>('/api/skus', { code: `LIVE-${index}`, name: `Live ${index}`, lowStockThreshold: 1 });
          await post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity: 100 });
          items.push(`/api/inventory/stores/${storeId}/items/${skuId}`);
        }

        // Frames by position, and when the notifier released each change (diagnostic).
        const framesAt = new Map<string, number>();
        const releasedAt = new Map<string, number>();
        const waiting = new Map<string, () => void>();
        notifier.listen((changes) => {
          const at = performance.now();
          for (const change of changes) releasedAt.set(change.position.toString(), at);
        });
        const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`;
        const ws = new WebSocket(url, { headers });
        socket = ws;
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
          ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
        });
        const subscribed = new Promise<void>((resolve, reject) => {
          ws.on('message', (data: Buffer) => {
            const at = performance.now();
            const frame = JSON.parse(data.toString('utf8')) as { type: string; position?: string };
            if (frame.type === 'subscribed') resolve();
            else if (frame.type === 'stock' && frame.position) {
              framesAt.set(frame.position, at);
              waiting.get(frame.position)?.();
            } else if (frame.type === 'error') reject(new Error(`ws error frame: ${data.toString('utf8')}`));
          });
        });
        ws.send(JSON.stringify({ type: 'subscribe', storeIds: [storeId] }));
        await subscribed;

        const patch = async () => {
          const path = items[Math.floor(Math.random() * items.length)]!;
          const response = await server.inject({ method: 'PATCH', url: path, headers, payload: { delta: 1, reason: 'received' } });
          const answeredAt = performance.now();
          if (response.statusCode !== 200) throw new Error(`PATCH: ${response.statusCode} ${response.body}`);
          const body = response.json<{ position: string; quantity: number }>();
          return { path, answeredAt, position: body.position, quantity: body.quantity };
        };
        const frameOf = (position: string, timeoutMs: number) =>
          new Promise<number>((resolve, reject) => {
            const seen = framesAt.get(position);
            if (seen !== undefined) return resolve(seen);
            const timer = setTimeout(() => {
              waiting.delete(position);
              reject(new Error(`no stock frame for position ${position} within ${timeoutMs} ms`));
            }, timeoutMs);
            waiting.set(position, () => {
              clearTimeout(timer);
              waiting.delete(position);
              resolve(framesAt.get(position)!);
            });
          });

        // The notifier's group joins the topic while the seed is forwarded: the first frame may take a while.
        progress(`${SECTION}: command → frame: waiting for the notifier and the projector to join their groups`);
        const joinDeadline = Date.now() + 60_000;
        for (;;) {
          const command = await patch();
          try {
            await frameOf(command.position, 5_000);
            const read = await server.inject({ method: 'GET', url: command.path, headers: { ...headers, 'x-min-position': command.position } });
            if (read.statusCode === 200) break;
          } catch (error) {
            if (Date.now() > joinDeadline) throw new Error(`no frame within 60 s of starting: ${describeError(error)}`);
          }
        }

        const histograms = { released: new LatencyHistogram(), frame: new LatencyHistogram(), api: new LatencyHistogram() };
        const failures = { frame: 0, api: 0 };
        const firstErrors: { frame: string | null; api: string | null } = { frame: null, api: null };
        const samples = config.freshnessSamples;
        progress(`${SECTION}: command → frame: ${samples} PATCHes, each waited for on the websocket and by a GET with X-Min-Position`);
        for (let index = 0; index < samples; index += 1) {
          await sleep(Math.random() * 20);
          let command: Awaited<ReturnType<typeof patch>>;
          try {
            command = await patch();
          } catch (error) {
            failures.frame += 1;
            firstErrors.frame ??= describeError(error);
            continue;
          }
          const { answeredAt } = command;
          const viaFrame = frameOf(command.position, 10_000).then((at) => {
            histograms.frame.record(at - answeredAt);
            const released = releasedAt.get(command.position);
            if (released !== undefined) histograms.released.record(released - answeredAt);
          });
          const viaApi = server
            .inject({ method: 'GET', url: command.path, headers: { ...headers, 'x-min-position': command.position } })
            .then((response) => {
              const at = performance.now();
              if (response.statusCode !== 200) throw new Error(`GET: ${response.statusCode} ${response.body.slice(0, 200)}`);
              const quantity = response.json<{ quantity: number }>().quantity;
              if (quantity < command.quantity) throw new Error(`GET answered quantity ${quantity}, the PATCH left ${command.quantity}`);
              histograms.api.record(at - answeredAt);
            });
          const [frame, api] = await Promise.allSettled([viaFrame, viaApi]);
          if (frame.status === 'rejected') {
            failures.frame += 1;
            firstErrors.frame ??= describeError(frame.reason);
          }
          if (api.status === 'rejected') {
            failures.api += 1;
            firstErrors.api ??= describeError(api.reason);
          }
          framesAt.delete(command.position);
          releasedAt.delete(command.position);
          if ((index + 1) % 100 === 0) {
            progress(`${SECTION}: command → frame: ${index + 1} / ${samples} (frame p50 ${histograms.frame.summary().p50.toFixed(1)} ms, GET p50 ${histograms.api.summary().p50.toFixed(1)} ms)`);
          }
        }
        const frame = histograms.frame.summary();
        const api = histograms.api.summary();
        progress(`${SECTION}: command → frame: p50 ${frame.p50.toFixed(1)} ms, p99 ${frame.p99.toFixed(1)} ms; GET with X-Min-Position p50 ${api.p50.toFixed(1)} ms, p99 ${api.p99.toFixed(1)} ms`);
        const same = `the same ${samples} PATCHes, one at a time`;
        return [
          latencyRow(input(subjects.released, true), histograms.released, 0, null, `the notifier's listener called (every partition's watermark past the position); ${same}`),
          latencyRow(input(subjects.frame), histograms.frame, failures.frame, firstErrors.frame, `PATCH answer → the client's stock frame for that position; ${same}; client in this process`),
          latencyRow(input(subjects.api), histograms.api, failures.api, firstErrors.api, `PATCH answer → GET answer with the new quantity, sent at the answer; ${same}; the API polls the watermark every 5 ms`),
        ];
      } finally {
        socket?.terminate();
        await app?.close().catch(() => {});
        await notifier.stop().catch(() => {});
        await projector?.stop().catch(() => {});
        await forwarder?.stop().catch(() => {});
        await bus.close().catch(() => {});
        await pool.end().catch(() => {});
      }
    });
  } catch (error) {
    progress(`${SECTION}: command → frame failed: ${describeError(error)}`);
    return [failedRow(input(subjects.frame), describeError(error)), failedRow(input(subjects.api), describeError(error))];
  } finally {
    await deleteTopic(SECTION, brokers, topic, group);
  }
}

export async function runLive(config: BenchConfig): Promise<BenchRow[]> {
  return [...(await fanOutCells(config)), ...(await commandToFrame(config))];
}

export const liveSection: Section = {
  id: SECTION,
  title: 'Live updates: websocket fan-out, command to frame',
  workersLabel: 'clients',
  run: ({ config }) => runLive(config),
  legend: [
    'fan-out: ops/s are stock frames delivered per second, summed over the clients (changes that reached the last client inside the',
    'measured window × clients); p50/p99 (paced rows only) from a change\'s send (bus.publish for Stockroom, the send loop for the peer)',
    'to its arrival at the last of the clients. Server: buildApp (ROLES=read-api,notifier) on a port, fed through an InProcessBus; clients: `ws` in a',
    'worker thread of this process. Baseline: a bare `ws` WebSocketServer sending the same frames. "client/server CPU µs/op" here are',
    'event-loop busy time per frame (performance.eventLoopUtilization) of the clients\' thread and of the main thread (the server and the',
    'feed), not CPU time; "host busy" is the whole machine.',
    'command → seen: p50/p99 in ms from the PATCH\'s answer, one command at a time, through a real broker; no rate.',
  ].join('\n'),
};
