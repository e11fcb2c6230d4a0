import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { principalOf } from '../../shared/auth/plugin.js';
import { requireRole } from '../../shared/auth/principal.js';
import { NotFound } from '../../shared/errors.js';
import { stores } from '../aggregates.js';
import type { Handled } from '../command-handler.js';
import { answer, commandContext, commandErrors, idForNew, written } from '../http.js';
import { idParam } from '../../shared/http/contract.js';
import type { DatabasePool } from '../../shared/db/pool.js';
import { stockOfStore } from '../stock-of.js';
import { storeStream } from '../streams.js';
import type { StoreCommand } from './commands.js';
import type { StoreEvent, StoreState } from './decider.js';

const Name = z.string().trim().min(1).max(200);
const Code = z.string().trim().min(1).max(32).nullable();
const Address = z.string().trim().min(1).max(500).nullable();

const writtenStore = z.object({
  id: z.uuid(),
  name: z.string(),
  code: z.string().nullable(),
  address: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  ...written,
});

const view = (storeId: string, result: Handled<StoreState, StoreEvent>): z.infer<typeof writtenStore> => {
  const store = result.state;
  if (store.status === 'absent') throw new NotFound('store', storeId);
  const { name, code, address, status } = store;
  return { id: storeId, name, code, address, status, revision: result.revision, position: result.position.toString() };
};

export const storeRoutes: FastifyPluginAsyncZod<{ pool: DatabasePool }> = async (app, { pool }) => {
  const commands = app.commands;

  app.post(
    '/api/stores',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['stores'],
        summary: 'Open a store (manager)',
        body: z.strictObject({ name: Name, code: Code.optional(), address: Address.optional() }),
        response: { 201: writtenStore, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const storeId = idForNew(request);
      const { name, code, address } = request.body;
      const result = await commands.handle(
        stores,
        storeStream(storeId),
        { type: 'OpenStore', storeId, name, code: code ?? null, address: address ?? null },
        commandContext(request),
      );
      return answer(reply, 201, view(storeId, result), `/api/stores/${storeId}`);
    },
  );

  app.patch(
    '/api/stores/:id',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['stores'],
        summary: 'Rename a store or change its code or address (manager)',
        params: idParam,
        body: z.strictObject({ name: Name.optional(), code: Code.optional(), address: Address.optional() }),
        response: { 200: writtenStore, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const storeId = request.params.id;
      const { name, code, address } = request.body;
      const changes: StoreCommand[] = [];
      if (name !== undefined) changes.push({ type: 'RenameStore', storeId, name });
      if (code !== undefined || address !== undefined || name === undefined) {
        changes.push({
          type: 'ChangeStoreDetails',
          storeId,
          ...(code !== undefined ? { code } : {}),
          ...(address !== undefined ? { address } : {}),
        });
      }
      const result = await commands.handle(stores, storeStream(storeId), changes, commandContext(request));
      return answer(reply, 200, view(storeId, result));
    },
  );

  app.delete(
    '/api/stores/:id',
    {
      preHandler: app.idempotent,
      schema: { tags: ['stores'], summary: 'Close a store (manager)', params: idParam, response: { 200: writtenStore, ...commandErrors } },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const storeId = request.params.id;
      const result = await commands.handle(stores, storeStream(storeId), { type: 'CloseStore', storeId, stock: await stockOfStore(pool, commands, storeId) }, commandContext(request));
      return answer(reply, 200, view(storeId, result));
    },
  );
};
