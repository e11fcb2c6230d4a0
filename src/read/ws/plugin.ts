import websocket from '@fastify/websocket';
import fp from 'fastify-plugin';
import type { Principal } from '../../shared/auth/principal.js';
import type { StockChangeFeed } from '../../shared/live/stock-changes.js';
import { type ConnectionLimits, LiveConnection } from './connection.js';

export interface LiveOptions {
  feed: StockChangeFeed;
  /** How often tokens are checked again: a revoked token's socket closes within this (plus one check). */
  recheckMs?: number;
  /** Ping interval; a client that has not answered the previous ping by the next is dropped. */
  pingMs?: number;
  /** Largest frame a client may send. */
  maxFrameBytes?: number;
  limits?: Partial<ConnectionLimits>;
}

const defaultLimits: ConnectionLimits = {
  authTimeoutMs: 5_000,
  maxBufferedBytes: 1024 * 1024,
  drainTimeoutMs: 10_000,
  replayBuffer: 10_000,
  framesPerSecond: 10,
  burst: 30,
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Websockets open on this process (for the cluster report). */
    liveConnections(): number;
  }
}

/**
 * `GET /ws`: live stock changes (the protocol is in design.md). The token comes in the
 * upgrade's Authorization header, checked before the upgrade, or as the first frame.
 */
export const liveApi = fp<LiveOptions>(async (app, options) => {
  const limits = { ...defaultLimits, ...options.limits };
  const connections = new Set<LiveConnection>();
  app.decorate('liveConnections', () => connections.size);

  await app.register(websocket, { options: { maxPayload: options.maxFrameBytes ?? 4_096 } });

  // Each token is checked once per round, however many sockets share it.
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    const round = new Map<string, Promise<Principal>>();
    const verify = (token: string) => {
      let answer = round.get(token);
      if (!answer) round.set(token, (answer = app.verifyToken(token)));
      return answer;
    };
    void Promise.allSettled([...connections].map((connection) => connection.recheck(verify))).finally(() => {
      rechecking = false;
    });
  }, options.recheckMs ?? 500);
  const ping = setInterval(() => {
    for (const connection of connections) connection.ping();
  }, options.pingMs ?? 30_000);
  app.addHook('onClose', async () => {
    clearInterval(recheck);
    clearInterval(ping);
    for (const connection of connections) connection.close(1001, 'server stopping');
  });

  app.get(
    '/ws',
    {
      websocket: true,
      schema: { hide: true },
      // With a header, a bad token is a 401 before any upgrade; without, the first frame decides.
      onRequest: async (request) => {
        if (request.headers.authorization) await app.authenticate(request);
      },
    },
    (socket, request) => {
      const token = request.headers.authorization?.replace(/^Bearer\s+/i, '');
      const connection = new LiveConnection(
        socket,
        { feed: options.feed, verify: (text) => app.verifyToken(text), limits, log: request.log },
        request.principal && token ? { principal: request.principal, token } : undefined,
      );
      connections.add(connection);
      socket.on('close', () => connections.delete(connection));
    },
  );
}, { name: 'stockroom-live' });
