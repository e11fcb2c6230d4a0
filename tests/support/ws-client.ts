import WebSocket from 'ws';

export interface Frame {
  type: string;
  [field: string]: unknown;
}

/** A websocket client that keeps every frame it got, for tests to wait on. */
export class TestSocket {
  readonly frames: Frame[] = [];
  /** Frames received by type, counted as they come (a filter over many frames per wait would be quadratic). */
  readonly counts = new Map<string, number>();
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.counts.set(frame.type, (this.counts.get(frame.type) ?? 0) + 1);
      if (this.waiters.length > 0 && (this.frames.length < 1_000 || this.frames.length % 1_000 === 0)) this.wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async open(url: string, token?: string, { autoPong = true } = {}): Promise<TestSocket> {
    const socket = new WebSocket(url, { autoPong, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    const client = new TestSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The frames of a type received so far. */
  of(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Waits until `done` holds over the frames (or the socket closed, when `closedToo`). */
  async until(done: (frames: Frame[]) => boolean, timeoutMs = 10_000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${JSON.stringify([...this.counts])}); got ${JSON.stringify(this.frames).slice(0, 2_000)}`);
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 2_000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the close and answers its code and reason. */
  async closing(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`not closed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
