import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DatabasePool } from '../shared/db/pool.js';
import type { EventStore } from '../shared/event-store/port.js';
import { loginRoutes, logoutRoutes } from './auth/routes.js';
import type { CommandHandler } from './command-handler.js';
import { idempotencyPlugin } from './idempotency.js';
import { skuRoutes } from './sku/routes.js';
import { stockItemRoutes } from './stock-item/routes.js';
import { storeRoutes } from './store/routes.js';
import { userFreshReadRoutes } from './user/fresh-reads.js';
import { userRoutes } from './user/routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    commands: CommandHandler;
    eventStore: EventStore;
  }
}

export interface WriteApiOptions {
  pool: DatabasePool;
  loginRateLimit: number;
}

/** The command half of the HTTP contract. Expects `commands`, `eventStore` and auth to be decorated. */
export const writeApi: FastifyPluginAsyncZod<WriteApiOptions> = async (app, options) => {
  await app.register(loginRoutes, { loginRateLimit: options.loginRateLimit });
  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', authenticated.authenticateHook);
    await authenticated.register(idempotencyPlugin, { pool: options.pool });
    await authenticated.register(logoutRoutes);
    await authenticated.register(userFreshReadRoutes);
    await authenticated.register(userRoutes);
    await authenticated.register(storeRoutes, { pool: options.pool });
    await authenticated.register(skuRoutes, { pool: options.pool });
    await authenticated.register(stockItemRoutes);
  });
};
