import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import type { DatabasePool } from '../../shared/db/pool.js';
import { stockOfSku } from '../stock-of.js';
import { principalOf } from '../../shared/auth/plugin.js';
import { requireRole } from '../../shared/auth/principal.js';
import { NotFound } from '../../shared/errors.js';
import { Count } from '../../shared/events/define.js';
import { PRICE_PATTERN } from '../../shared/events/sku.js';
import { reservations, skus } from '../aggregates.js';
import type { Handled } from '../command-handler.js';
import { answer, commandContext, commandErrors, idForNew, written } from '../http.js';
import { idParam } from '../../shared/http/contract.js';
import { skuCodeReservationStream, skuStream } from '../streams.js';
import type { SkuEvent, SkuState } from './decider.js';

const Code = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._\-/]+$/, 'may hold letters, digits and . _ - /');
const Name = z.string().trim().min(1).max(200);
const Category = z.string().trim().min(1).max(100).nullable();
const Unit = z.string().trim().min(1).max(32);
const Price = z.string().regex(PRICE_PATTERN, 'must be a decimal string such as "12.50"').nullable();
const Threshold = Count.max(1_000_000_000);

const writtenSku = z.object({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  unit: z.string(),
  price: z.string().nullable(),
  lowStockThreshold: z.int(),
  deleted: z.boolean(),
  ...written,
});

const view = (skuId: string, result: Handled<SkuState, SkuEvent>): z.infer<typeof writtenSku> => {
  const sku = result.state;
  if (sku.status === 'absent') throw new NotFound('SKU', skuId);
  const { code, name, category, unit, price, lowStockThreshold } = sku;
  return {
    id: skuId,
    code,
    name,
    category,
    unit,
    price,
    lowStockThreshold,
    deleted: sku.status === 'deleted',
    revision: result.revision,
    position: result.position.toString(),
  };
};

export const skuRoutes: FastifyPluginAsyncZod<{ pool: DatabasePool }> = async (app, { pool }) => {
  const commands = app.commands;

  app.post(
    '/api/skus',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['skus'],
        summary: 'Create a SKU with a unique code (manager)',
        body: z.strictObject({
          code: Code,
          name: Name,
          category: Category.optional(),
          unit: Unit.optional(),
          price: Price.optional(),
          lowStockThreshold: Threshold.optional(),
        }),
        response: { 201: writtenSku, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const context = commandContext(request);
      const skuId = idForNew(request);
      const body = request.body;
      await commands.handle(
        reservations,
        skuCodeReservationStream(body.code),
        { type: 'Reserve', value: body.code, ownerId: skuId, field: 'code' },
        context,
      );
      const result = await commands.handle(
        skus,
        skuStream(skuId),
        {
          type: 'CreateSku',
          skuId,
          code: body.code,
          name: body.name,
          category: body.category ?? null,
          unit: body.unit ?? 'each',
          price: body.price ?? null,
          lowStockThreshold: body.lowStockThreshold ?? 0,
        },
        context,
      );
      return answer(reply, 201, view(skuId, result), `/api/skus/${skuId}`);
    },
  );

  app.patch(
    '/api/skus/:id',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['skus'],
        summary: 'Change a SKU (manager); its code never changes',
        params: idParam,
        body: z.strictObject({
          name: Name.optional(),
          category: Category.optional(),
          unit: Unit.optional(),
          price: Price.optional(),
          lowStockThreshold: Threshold.optional(),
        }),
        response: { 200: writtenSku, ...commandErrors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const skuId = request.params.id;
      const result = await commands.handle(skus, skuStream(skuId), { type: 'UpdateSku', skuId, ...request.body }, commandContext(request));
      return answer(reply, 200, view(skuId, result));
    },
  );

  app.delete(
    '/api/skus/:id',
    {
      preHandler: app.idempotent,
      schema: { tags: ['skus'], summary: 'Delete a SKU (manager)', params: idParam, response: { 200: writtenSku, ...commandErrors } },
    },
    async (request, reply) => {
      requireRole(principalOf(request), 'manager');
      const context = commandContext(request);
      const skuId = request.params.id;
      const result = await commands.handle(skus, skuStream(skuId), { type: 'DeleteSku', skuId, stock: await stockOfSku(pool, commands, skuId) }, context);
      if (result.state.status !== 'absent') {
        // The code may name a new SKU once this one is gone.
        await commands.handle(
          reservations,
          skuCodeReservationStream(result.state.code),
          { type: 'Release', ownerId: skuId },
          { ...context, ifMatch: undefined },
        );
      }
      return answer(reply, 200, view(skuId, result));
    },
  );
};
