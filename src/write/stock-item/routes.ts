import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { principalOf } from '../../shared/auth/plugin.js';
import { requireStockAccess } from '../../shared/auth/principal.js';
import { NotFound } from '../../shared/errors.js';
import { Count } from '../../shared/events/define.js';
import { AdjustmentReason } from '../../shared/events/stock-item.js';
import { skus, stockItems, stores } from '../aggregates.js';
import type { Handled } from '../command-handler.js';
import { answer, commandContext, commandErrors, written } from '../http.js';
import { itemParams, storeParam } from '../../shared/http/contract.js';
import { skuStream, stockItemStream, storeStream } from '../streams.js';
import type { StockItemCommand, StoreStatus } from './commands.js';
import type { StockItemEvent, StockItemState } from './decider.js';

const Quantity = Count.max(1_000_000_000);
const Note = z.string().trim().max(500).nullable();
/** The document behind an adjustment: an order, a delivery note, a count sheet. */
const Reference = z.string().trim().min(1).max(200).nullable();

const writtenItem = z.object({
  storeId: z.uuid(),
  skuId: z.uuid(),
  quantity: z.int(),
  lowStockThreshold: z.int(),
  removed: z.boolean(),
  ...written,
});

const forms = '{delta, reason, note?, reference?}, {countedQuantity, note?} or {lowStockThreshold}';

const Delta = z.int().min(-1_000_000_000).max(1_000_000_000);

/** Exactly one of three changes; checked field by field so the answer names what is wrong. */
const itemChange = z
  .strictObject({
    delta: Delta.optional(),
    reason: AdjustmentReason.optional(),
    note: Note.optional(),
    reference: Reference.optional(),
    countedQuantity: Quantity.optional(),
    lowStockThreshold: Quantity.optional(),
  })
  .superRefine((body, context) => {
    const adjusting = body.delta !== undefined || body.reason !== undefined;
    const counting = body.countedQuantity !== undefined;
    const thresholding = body.lowStockThreshold !== undefined;
    const given = [adjusting, counting, thresholding].filter(Boolean).length;
    if (given !== 1) {
      context.addIssue({ code: 'custom', path: [], message: `give exactly one of ${forms}` });
      return;
    }
    if (adjusting && body.delta === undefined) context.addIssue({ code: 'custom', path: ['delta'], message: 'is required with reason' });
    if (adjusting && body.reason === undefined) context.addIssue({ code: 'custom', path: ['reason'], message: 'is required with delta' });
    if (thresholding && body.note !== undefined) context.addIssue({ code: 'custom', path: ['note'], message: 'goes with an adjustment or a count' });
    if (!adjusting && body.reference !== undefined) context.addIssue({ code: 'custom', path: ['reference'], message: 'goes with an adjustment (delta and reason)' });
  });

/** The same three shapes as the OpenAPI document shows them (one of); itemChange checks them. */
const itemChangeShapes = z.union([
  z.strictObject({ delta: Delta, reason: AdjustmentReason, note: Note.optional(), reference: Reference.optional() }),
  z.strictObject({ countedQuantity: Quantity, note: Note.optional() }),
  z.strictObject({ lowStockThreshold: Quantity }),
]);

/**
 * How old the store's status may be when an adjustment or a count checks it. Reading the
 * store's stream on every sale would cost a round trip on the hot path; this process's
 * own close is seen at once, another replica's within this window (docs/decisions.md,
 * "A closed store moves no stock").
 */
export const STORE_STATUS_MAX_AGE_MS = 1_000;

const toCommand = (storeId: string, skuId: string, body: z.infer<typeof itemChange>, storeStatus: StoreStatus): StockItemCommand => {
  if (body.delta !== undefined && body.reason !== undefined) {
    return { type: 'AdjustStock', storeId, skuId, delta: body.delta, reason: body.reason, note: body.note ?? null, reference: body.reference ?? null, storeStatus };
  }
  if (body.countedQuantity !== undefined) return { type: 'CountStock', storeId, skuId, countedQuantity: body.countedQuantity, note: body.note ?? null, storeStatus };
  return { type: 'ChangeLowStockThreshold', storeId, skuId, lowStockThreshold: body.lowStockThreshold ?? 0 };
};

const view = (storeId: string, skuId: string, result: Handled<StockItemState, StockItemEvent>): z.infer<typeof writtenItem> => {
  const item = result.state;
  if (item.status === 'absent') throw new NotFound('stock item', `${storeId}/${skuId}`);
  return {
    storeId,
    skuId,
    quantity: item.quantity,
    lowStockThreshold: item.lowStockThreshold,
    removed: item.status === 'removed',
    revision: result.revision,
    position: result.position.toString(),
  };
};

export const stockItemRoutes: FastifyPluginAsyncZod = async (app) => {
  const commands = app.commands;

  app.post(
    '/api/inventory/stores/:storeId/items',
    {
      preHandler: app.idempotent,
      schema: {
        tags: ['inventory'],
        summary: 'Add a SKU to a store with its starting quantity',
        params: storeParam,
        body: z.strictObject({ skuId: z.uuid(), quantity: Quantity, lowStockThreshold: Quantity.optional() }),
        response: { 201: writtenItem, ...commandErrors },
      },
    },
    async (request, reply) => {
      const { storeId } = request.params;
      requireStockAccess(principalOf(request), storeId);
      const { skuId, quantity } = request.body;
      const [store, sku] = await Promise.all([commands.load(stores, storeStream(storeId)), commands.load(skus, skuStream(skuId))]);
      const lowStockThreshold = request.body.lowStockThreshold ?? (sku.state.status === 'active' ? sku.state.lowStockThreshold : 0);
      const result = await commands.handle(
        stockItems,
        stockItemStream(storeId, skuId),
        {
          type: 'AddStockItem',
          storeId,
          skuId,
          quantity,
          lowStockThreshold,
          storeStatus: store.state.status,
          skuExists: sku.state.status === 'active',
        },
        commandContext(request),
      );
      return answer(reply, 201, view(storeId, skuId, result), `/api/inventory/stores/${storeId}/items/${skuId}`);
    },
  );

  app.patch(
    '/api/inventory/stores/:storeId/items/:skuId',
    {
      preHandler: app.idempotent,
      config: { documentedBody: itemChangeShapes },
      schema: {
        tags: ['inventory'],
        summary: `Adjust by a delta, set a counted quantity, or change the low-stock threshold: ${forms}`,
        params: itemParams,
        body: itemChange,
        response: { 200: writtenItem, ...commandErrors },
      },
    },
    async (request, reply) => {
      const { storeId, skuId } = request.params;
      requireStockAccess(principalOf(request), storeId);
      const store = await commands.loadRecent(stores, storeStream(storeId), STORE_STATUS_MAX_AGE_MS);
      const result = await commands.handle(
        stockItems,
        stockItemStream(storeId, skuId),
        toCommand(storeId, skuId, request.body, store.state.status),
        commandContext(request),
      );
      return answer(reply, 200, view(storeId, skuId, result));
    },
  );

  app.delete(
    '/api/inventory/stores/:storeId/items/:skuId',
    {
      preHandler: app.idempotent,
      schema: { tags: ['inventory'], summary: 'Remove a SKU from a store', params: itemParams, response: { 200: writtenItem, ...commandErrors } },
    },
    async (request, reply) => {
      const { storeId, skuId } = request.params;
      requireStockAccess(principalOf(request), storeId);
      const result = await commands.handle(
        stockItems,
        stockItemStream(storeId, skuId),
        { type: 'RemoveStockItem', storeId, skuId },
        commandContext(request),
      );
      return answer(reply, 200, view(storeId, skuId, result));
    },
  );
};
