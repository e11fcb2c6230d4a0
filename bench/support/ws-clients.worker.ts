/**
 * The websocket clients of the live fan-out cells, in a worker thread of the bench process
 * (started by ws-clients.ts): the server under test keeps the main thread's event loop to
 * itself, and the clients get the other core, as clients elsewhere would.
 *
 * Every client counts the `stock` frames it gets. The k-th stock frame of every client is
 * the k-th change the server sent (each client gets every change once, in order), so when
 * the k-th frame has reached all N clients, change k is delivered: the worker tells the main
 * thread when (process.hrtime, the same monotonic clock in every thread of the process).
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import type { ClientsSetup, FromClients, ToClients } from './ws-clients.js';

const setup = workerData as ClientsSetup;
const port = parentPort!;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const post = (message: FromClients): void => port.postMessage(message);

const sockets: WebSocket[] = [];
let closing = false;
let frames = 0;
let bytes = 0;
let otherFrames = 0;
let orderErrors = 0;
let firstOrderError: string | null = null;
/** reached[k]: clients that have had their k-th stock frame (k from 1). */
let reached = new Uint32Array(1 << 14);
let firstAt = new Float64Array(1 << 14);
let completeThrough = 0;
let pending: [number, number, number][] = [];
let flushing = false;
/** Clients that opened (and subscribed): a change is delivered once it reached all of them. */
let expected = setup.clients;

const grow = (index: number): void => {
  if (index < reached.length) return;
  let size = reached.length;
  while (size <= index) size *= 2;
  const nextReached = new Uint32Array(size);
  nextReached.set(reached);
  reached = nextReached;
  const nextFirst = new Float64Array(size);
  nextFirst.set(firstAt);
  firstAt = nextFirst;
};

const flush = (): void => {
  flushing = false;
  if (pending.length === 0) return;
  post({ type: 'delivered', changes: pending });
  pending = [];
};

const POSITION = '"position":"';

function client(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(setup.url, setup.authorization ? { headers: { authorization: setup.authorization } } : {});
    sockets[index] = socket;
    let count = 0;
    let lastPosition = -1;
    let ready = setup.subscribe === null;
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    socket.once('open', () => {
      if (setup.subscribe === null) resolve();
      else socket.send(setup.subscribe);
    });
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (!text.startsWith('{"type":"stock"')) {
        if (!ready && text.startsWith('{"type":"subscribed"')) {
          ready = true;
          resolve();
        } else {
          otherFrames += 1;
          if (!ready) reject(new Error(`before subscribed: ${text.slice(0, 200)}`));
        }
        return;
      }
      frames += 1;
      bytes += data.length;
      // The position, without parsing the whole frame: it must grow on every client.
      const from = text.indexOf(POSITION) + POSITION.length;
      const position = Number(text.slice(from, text.indexOf('"', from)));
      if (!(position > lastPosition)) {
        orderErrors += 1;
        firstOrderError ??= `client ${index}: position ${position} after ${lastPosition}`;
      }
      lastPosition = position;
      count += 1;
      grow(count);
      const got = (reached[count] ?? 0) + 1;
      reached[count] = got;
      if (got === 1) firstAt[count] = now();
      if (got === expected) {
        completeThrough = count;
        pending.push([count, firstAt[count] ?? 0, now()]);
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      }
    });
    socket.on('close', (code, reason) => {
      if (!closing) post({ type: 'lost', client: index, code, reason: reason.toString() });
    });
  });
}

async function open(): Promise<void> {
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: Math.min(setup.concurrency, setup.clients) }, async () => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= setup.clients) return;
        try {
          await client(index);
          opened += 1;
        } catch (error) {
          failed += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  expected = opened;
  post({ type: 'ready', opened, failed, firstError });
}

port.on('message', (message: ToClients) => {
  if (message.type === 'stats') {
    post({ type: 'stats', frames, bytes, otherFrames, orderErrors, firstOrderError, completeThrough });
  } else if (message.type === 'close') {
    closing = true;
    for (const socket of sockets) socket?.terminate();
    post({ type: 'closed' });
  }
});

void open();
