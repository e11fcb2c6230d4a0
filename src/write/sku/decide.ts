import { InvalidValue, NothingToChange } from '../../shared/domain-errors.js';
import { AlreadyExists, NotFound } from '../../shared/errors.js';
import { isCount } from '../../shared/events/define.js';
import { PRICE_PATTERN, type SkuEvent } from '../../shared/events/sku.js';
import { changedFields, isEmpty, isEmptyPatch } from '../patch.js';
import { StockRemains, withStock } from '../stock-remains.js';
import type { CreateSku, SkuCommand, UpdateSku } from './commands.js';
import type { ActiveSku, SkuState } from './state.js';

export function decide(command: SkuCommand, state: SkuState): SkuEvent[] {
  switch (command.type) {
    case 'CreateSku':
      return createSku(command, state);
    case 'UpdateSku':
      return updateSku(command, activeSku(state, command.skuId));
    case 'DeleteSku': {
      activeSku(state, command.skuId);
      const left = withStock(command.stock);
      if (left.length > 0) throw new StockRemains('sku', command.skuId, left);
      return [{ type: 'SkuDeleted', data: {} }];
    }
  }
}

function createSku(command: CreateSku, state: SkuState): SkuEvent[] {
  if (state.status !== 'absent') throw new AlreadyExists('sku', command.skuId);
  checkPrice(command.price);
  checkThreshold(command.lowStockThreshold);
  const { skuId, code, name, category, unit, price, lowStockThreshold } = command;
  return [{ type: 'SkuCreated', data: { skuId, code, name, category, unit, price, lowStockThreshold } }];
}

function updateSku(command: UpdateSku, sku: ActiveSku): SkuEvent[] {
  const { name, category, unit, price, lowStockThreshold } = command;
  const patch = { name, category, unit, price, lowStockThreshold };
  if (isEmptyPatch(patch)) throw new NothingToChange(Object.keys(patch));
  if (price !== undefined) checkPrice(price);
  if (lowStockThreshold !== undefined) checkThreshold(lowStockThreshold);
  const changes = changedFields(sku, patch);
  return isEmpty(changes) ? [] : [{ type: 'SkuUpdated', data: changes }];
}

function activeSku(state: SkuState, skuId: string): ActiveSku {
  if (state.status !== 'active') throw new NotFound('sku', skuId);
  return state;
}

function checkPrice(price: string | null): void {
  if (price !== null && !PRICE_PATTERN.test(price)) {
    throw new InvalidValue('price', 'must be a decimal with up to 12 digits and 4 decimals, such as 12.50');
  }
}

function checkThreshold(lowStockThreshold: number): void {
  if (!isCount(lowStockThreshold)) throw new InvalidValue('lowStockThreshold', 'must be a whole number, 0 or more');
}
