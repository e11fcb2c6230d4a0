import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';

/**
 * N websocket clients in a worker thread of the bench process (ws-clients.worker.ts), and
 * when each change the server sent had reached all of them.
 */
export interface ClientsSetup {
  /** ws://host:port/path */
  url: string;
  clients: number;
  /** The upgrade's Authorization header, if any. */
  authorization: string | null;
  /** A frame each client sends once open, then waits for `subscribed`; null: ready when open. */
  subscribe: string | null;
  /** Upgrades in flight at once while opening. */
  concurrency: number;
}

export type ToClients = { type: 'stats' } | { type: 'close' };

export type FromClients =
  | { type: 'ready'; opened: number; failed: number; firstError: string | null }
  /** [k, first client got it, last client got it] in hrtime milliseconds. */
  | { type: 'delivered'; changes: [number, number, number][] }
  | { type: 'lost'; client: number; code: number; reason: string }
  | { type: 'stats'; frames: number; bytes: number; otherFrames: number; orderErrors: number; firstOrderError: string | null; completeThrough: number }
  | { type: 'closed' };

export type ClientStats = Extract<FromClients, { type: 'stats' }>;

/** The clock of every thread of this process (process.hrtime), in milliseconds. */
export const hrtimeMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const workerFile = new URL('./ws-clients.worker.ts', import.meta.url).href;

export class WsClients {
  /** Changes delivered to every client, in order: 1..completeThrough. */
  completeThrough = 0;
  /** By change k (from 1): when the first and the last client got it. */
  readonly firstAt: number[] = [];
  readonly allAt: number[] = [];
  /** Set when a client was closed by the server: the cell cannot finish. */
  lost: string | null = null;
  private waiters: (() => void)[] = [];
  private statsWaiter: ((stats: ClientStats) => void) | null = null;
  private closedWaiter: (() => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly opened: number,
  ) {}

  /** Starts the worker, opens (and subscribes) every client; rejects unless all of them did. */
  static async open(setup: ClientsSetup, timeoutMs = 120_000): Promise<WsClients> {
    // The worker runs TypeScript through tsx's API (a worker does not inherit tsx's loader).
    const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(workerFile)}, ${JSON.stringify(workerFile)}))`;
    const worker = new Worker(code, { eval: true, workerData: setup });
    let clients: WsClients | null = null;
    const ready = new Promise<Extract<FromClients, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the clients did not open within ${timeoutMs / 1000} s`)), timeoutMs);
      worker.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      worker.on('message', (message: FromClients) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
        } else clients?.onMessage(message);
      });
    });
    try {
      const answer = await ready;
      if (answer.failed > 0) throw new Error(`${answer.failed} of ${setup.clients} clients did not open: ${answer.firstError ?? '?'}`);
      clients = new WsClients(worker, answer.opened);
      return clients;
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Event-loop use of the clients' thread (performance.eventLoopUtilization of the worker). */
  loopUse(since?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(since);
  }

  /** Resolves once change `k` (and every one before it) reached every client; rejects after timeoutMs or a lost client. */
  async until(k: number, timeoutMs: number): Promise<void> {
    const deadline = hrtimeMs() + timeoutMs;
    while (this.completeThrough < k) {
      if (this.lost) throw new Error(this.lost);
      const left = deadline - hrtimeMs();
      if (left <= 0) throw new Error(`change ${k} had not reached every client within ${timeoutMs} ms (delivered through ${this.completeThrough})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stats(): Promise<ClientStats> {
    return new Promise((resolve) => {
      this.statsWaiter = resolve;
      this.worker.postMessage({ type: 'stats' } satisfies ToClients);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      this.closedWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.postMessage({ type: 'close' } satisfies ToClients);
    });
    await this.worker.terminate();
  }

  private onMessage(message: FromClients): void {
    if (message.type === 'delivered') {
      for (const [k, first, all] of message.changes) {
        this.firstAt[k] = first;
        this.allAt[k] = all;
        if (k > this.completeThrough) this.completeThrough = k;
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    } else if (message.type === 'lost') {
      this.lost ??= `the server closed client ${message.client}: ${message.code} ${message.reason}`;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    } else if (message.type === 'stats') {
      this.statsWaiter?.(message);
      this.statsWaiter = null;
    } else if (message.type === 'closed') {
      this.closedWaiter?.();
      this.closedWaiter = null;
    }
  }
}
