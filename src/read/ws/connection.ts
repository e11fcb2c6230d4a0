import { setTimeout as sleep } from 'node:timers/promises';
import type { RawData, WebSocket } from 'ws';
import type { Principal } from '../../shared/auth/principal.js';
import { backoffDelayMs } from '../../shared/backoff.js';
import { Unauthorized } from '../../shared/errors.js';
import type { StockChange, StockChangeFeed } from '../../shared/live/stock-changes.js';
import {
  authenticatedFrame,
  CLOSE,
  clientFrame,
  clientFrameTypes,
  type ErrorCode,
  errorFrame,
  stockFrame,
  subscribedFrame,
  unsubscribedFrame,
} from './protocol.js';

export interface ConnectionLimits {
  /** A socket that has not authenticated by then is closed (4401). */
  authTimeoutMs: number;
  /** Bytes the socket may hold unsent before the client counts as not reading (1013). */
  maxBufferedBytes: number;
  /** How long a replay waits for a client to read what it was sent before giving up on it (1013). */
  drainTimeoutMs: number;
  /** Live changes held for a group while it replays; past this the replay runs again instead. */
  replayBuffer: number;
  /** Frames a client may send: a bucket of `burst`, refilled at `framesPerSecond`. */
  framesPerSecond: number;
  burst: number;
}

export interface ConnectionDeps {
  feed: StockChangeFeed;
  verify(token: string): Promise<Principal>;
  limits: ConnectionLimits;
  log: { warn(obj: object, msg?: string): void };
}

/** Stores subscribed together: one resume point, one replay. */
interface Group {
  stores: Set<string>;
  replaying: boolean;
  /** Position of the last change sent (or read through): anything at or below is a repeat. */
  sent: bigint;
  buffer: StockChange[];
  overflow: boolean;
  abort: AbortController;
}

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One websocket client: authentication, its subscriptions, and the stream of `stock`
 * frames. A subscription first replays what it asked for from the event store (from
 * `since`, or from the head when it gave none) while live changes wait in a bounded
 * buffer, then goes live; positions decide what is a repeat, so the switch neither
 * drops nor repeats a change.
 */
export class LiveConnection {
  principal: Principal | null = null;
  private token: string | null = null;
  private readonly groups = new Set<Group>();
  private readonly unlisten: () => void;
  private expiry: NodeJS.Timeout | null = null;
  private readonly authTimer: NodeJS.Timeout;
  private tokens: number;
  private refilledAt = Date.now();
  private closed = false;
  /** Answered the last ping. */
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: ConnectionDeps,
    authenticated?: { principal: Principal; token: string },
  ) {
    this.tokens = deps.limits.burst;
    this.unlisten = deps.feed.listen((changes) => this.onLive(changes));
    socket.on('message', (data, isBinary) => void this.onMessage(data, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
    this.authTimer = setTimeout(() => {
      if (!this.principal) this.close(CLOSE.unauthorized, 'authenticate within 5 seconds');
    }, deps.limits.authTimeoutMs);
    if (authenticated) this.accept(authenticated.principal, authenticated.token);
  }

  get storeCount(): number {
    let count = 0;
    for (const group of this.groups) count += group.stores.size;
    return count;
  }

  /** The token checked again (revocation, password change, store assignments): called every so often. */
  async recheck(verify: (token: string) => Promise<Principal> = this.deps.verify): Promise<void> {
    if (!this.token || this.closed) return;
    let principal: Principal;
    try {
      principal = await verify(this.token);
    } catch (error) {
      if (error instanceof Unauthorized) this.close(CLOSE.unauthorized, error.message);
      return; // the database is away: the next recheck decides
    }
    this.principal = principal;
    if (principal.role !== 'staff') return;
    const lost: string[] = [];
    for (const group of this.groups) {
      for (const store of group.stores) {
        if (!principal.storeIds.includes(store)) {
          group.stores.delete(store);
          lost.push(store);
        }
      }
    }
    if (lost.length > 0) this.error('forbidden-store', `You are no longer assigned to ${lost.join(', ')}; unsubscribed.`);
  }

  ping(): void {
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    // A reason is at most 123 bytes in a close frame.
    this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
    // A client that does not read may never answer the close: drop it after a while.
    setTimeout(() => this.socket.terminate(), 5_000).unref();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    clearTimeout(this.authTimer);
    if (this.expiry) clearTimeout(this.expiry);
    for (const group of this.groups) group.abort.abort();
    this.groups.clear();
  }

  private accept(principal: Principal, token: string): void {
    this.principal = principal;
    this.token = token;
    clearTimeout(this.authTimer);
    const left = principal.tokenExpiresAt.getTime() - Date.now();
    // setTimeout holds 32-bit milliseconds; a token outliving 24 days is rechecked instead.
    this.expiry = setTimeout(() => this.close(CLOSE.unauthorized, 'The token has expired; log in again.'), Math.max(0, Math.min(left, 2 ** 31 - 1)));
  }

  private send(frame: string): boolean {
    if (this.closed) return false;
    this.socket.send(frame);
    if (this.socket.bufferedAmount > this.deps.limits.maxBufferedBytes) {
      this.close(CLOSE.tooSlow, 'frames were not read');
      return false;
    }
    return true;
  }

  private error(code: ErrorCode, detail: string): void {
    this.send(errorFrame(code, detail));
  }

  /** Token bucket: false when the client sends faster than the bound. */
  private takeToken(): boolean {
    const now = Date.now();
    const { framesPerSecond, burst } = this.deps.limits;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * framesPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private async onMessage(data: RawData, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    if (!this.takeToken()) return this.close(CLOSE.flood, 'too many frames');
    if (isBinary) return this.error('invalid-frame', 'Frames are JSON text, not binary.');
    let json: unknown;
    try {
      json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    } catch {
      return this.error('invalid-json', 'The frame is not JSON.');
    }
    const type = typeof json === 'object' && json !== null && 'type' in json ? (json as { type: unknown }).type : undefined;
    if (typeof type !== 'string') return this.error('invalid-frame', 'A frame is a JSON object with a "type".');
    if (!clientFrameTypes.has(type)) return this.error('unknown-type', `Unknown frame type "${type.slice(0, 40)}"; expected authenticate, subscribe or unsubscribe.`);
    const parsed = clientFrame.safeParse(json);
    if (!parsed.success) {
      return this.error('invalid-frame', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'frame'}: ${issue.message}`).join('; '));
    }
    const frame = parsed.data;
    if (frame.type === 'authenticate') return this.authenticate(frame.token);
    if (!this.principal) return this.error('not-authenticated', 'Send {"type":"authenticate","token":"..."} first.');
    if (frame.type === 'subscribe') return this.subscribe(frame.storeIds, frame.since);
    this.unsubscribe(frame.storeIds);
  }

  private async authenticate(token: string): Promise<void> {
    if (this.principal) return this.error('already-authenticated', 'This connection is authenticated already.');
    try {
      const principal = await this.deps.verify(token);
      if (this.closed) return;
      this.accept(principal, token);
      this.send(authenticatedFrame(principal.userId, principal.role));
    } catch (error) {
      if (error instanceof Unauthorized) return this.close(CLOSE.unauthorized, error.message);
      this.error('unavailable', 'Cannot check the token now; try again.');
    }
  }

  private async subscribe(storeIds: string[], since: string | undefined): Promise<void> {
    const principal = this.principal!;
    const ids = [...new Set(storeIds)];
    const refused = principal.role === 'staff' ? ids.filter((id) => !principal.storeIds.includes(id)) : [];
    if (refused.length > 0) return this.error('forbidden-store', `You are not assigned to ${refused.join(', ')}.`);
    // A store subscribed again moves to this subscription and its `since`.
    this.removeStores(ids);
    const group: Group = { stores: new Set(ids), replaying: true, sent: -1n, buffer: [], overflow: false, abort: new AbortController() };
    this.groups.add(group);
    let from: bigint;
    let head: bigint;
    try {
      head = await this.deps.feed.head();
      from = since === undefined ? head : BigInt(since);
    } catch (error) {
      this.groups.delete(group);
      return this.error('unavailable', `Cannot read the event store now (${detailOf(error)}); subscribe again.`);
    }
    // Every position a frame named is at or below the head: one beyond it came from another
    // database (a restore, another deployment), and every change would be dropped as a repeat.
    if (from > head) {
      this.removeStores(ids);
      return this.error('invalid-frame', `since: ${from} is beyond the last position written (${head}); subscribe without since, or with a position this server sent.`);
    }
    group.sent = from;
    if (!this.send(subscribedFrame(ids, from))) return;
    await this.replay(group);
  }

  /** Replays from the event store, then drains what came live meanwhile; again if that overflowed. */
  private async replay(group: Group): Promise<void> {
    let failures = 0;
    while (!this.closed && !group.abort.signal.aborted) {
      while (!this.deps.feed.live) {
        await sleep(50);
        if (this.closed) return;
      }
      group.buffer = [];
      group.overflow = false;
      try {
        const through = await this.deps.feed.replay({
          after: group.sent,
          storeIds: group.stores,
          signal: group.abort.signal,
          onChanges: async (changes) => {
            for (const change of changes) this.deliver(group, change);
            await this.drained();
          },
        });
        // Every change of these stores up to `through` has been sent: live ones at or below repeat.
        if (through > group.sent) group.sent = through;
      } catch (error) {
        if (this.closed || group.abort.signal.aborted) return;
        this.deps.log.warn({ err: error }, 'websocket: a replay failed; retrying');
        // Said once per failure streak: the client knows why nothing comes, and nothing is skipped.
        if (failures === 0) this.error('unavailable', `The changes since ${group.sent} cannot be read now (${detailOf(error)}); retrying.`);
        failures += 1;
        await sleep(backoffDelayMs(failures, { baseMs: 1_000, maxMs: 5_000 }));
        continue;
      }
      if (group.overflow) continue;
      group.replaying = false;
      for (const change of group.buffer) this.deliver(group, change);
      group.buffer = [];
      return;
    }
  }

  /** Waits until the client has read most of what it was sent, or gives up on it. */
  private async drained(): Promise<void> {
    const deadline = Date.now() + this.deps.limits.drainTimeoutMs;
    while (!this.closed && this.socket.bufferedAmount > this.deps.limits.maxBufferedBytes / 4) {
      if (Date.now() > deadline) return this.close(CLOSE.tooSlow, 'frames were not read');
      await sleep(5);
    }
  }

  private deliver(group: Group, change: StockChange): void {
    if (change.position <= group.sent || !group.stores.has(change.storeId)) return;
    group.sent = change.position;
    this.send(stockFrame(change));
  }

  private onLive(changes: readonly StockChange[]): void {
    for (const group of this.groups) {
      if (!group.replaying) {
        for (const change of changes) this.deliver(group, change);
        continue;
      }
      if (group.overflow) continue;
      for (const change of changes) if (group.stores.has(change.storeId)) group.buffer.push(change);
      if (group.buffer.length > this.deps.limits.replayBuffer) {
        group.overflow = true;
        group.buffer = [];
      }
    }
  }

  private unsubscribe(storeIds: string[]): void {
    const ids = [...new Set(storeIds)];
    this.removeStores(ids);
    this.send(unsubscribedFrame(ids));
  }

  private removeStores(ids: readonly string[]): void {
    for (const group of this.groups) {
      for (const id of ids) group.stores.delete(id);
      if (group.stores.size === 0) {
        group.abort.abort();
        this.groups.delete(group);
      }
    }
  }
}
