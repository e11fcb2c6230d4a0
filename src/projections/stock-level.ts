import { z } from 'zod/v4';
import type { RecordedEvent } from '../shared/event-store/port.js';
import type { StockroomEvent } from '../shared/events/index.js';
import { itemOfStream } from '../shared/hot-model/keys.js';
import type { StockLevel } from '../shared/stock-level.js';
import { type Columns, column, rowCodec } from './postgres/row-codec.js';

export type { StockLevel };

/** The columns of a stock level in the PostgreSQL tables that keep one (stock, stock_ledger). */
export const stockLevelColumns: Columns<StockLevel> = {
  storeId: z.string(),
  skuId: z.string(),
  quantity: column.int8AsNumber,
  lowStockThreshold: z.number().int(),
  removed: z.boolean(),
  revision: column.int8AsNumber,
  position: column.int8,
};

export const stockLevelCodec = rowCodec<StockLevel>(stockLevelColumns);

/** A stock level as PostgreSQL tables store it (snake_case, int8 as bigint), read back into a StockLevel. */
export const stockLevelRow = stockLevelCodec.schema;

/**
 * How one event changes a stock item's level: the one rule both the PostgreSQL and the
 * Redis projections follow. Levels are absolute in the events (quantityAfter,
 * countedQuantity), so applying one never depends on arithmetic over earlier ones.
 * `stamp` adds what a read model keeps beside the level (PostgreSQL: updatedAt).
 */
export function evolveStockLevel<Row extends StockLevel>(
  row: Row | null,
  event: StockroomEvent,
  recorded: RecordedEvent,
  stamp: Omit<Row, keyof StockLevel>,
): Row | null {
  // Written out in each case rather than spread from one object of them: a rebuild folds millions.
  const { revision, position } = recorded;
  switch (event.type) {
    case 'StockItemAdded': {
      const level: StockLevel = {
        ...itemOfStream(recorded.streamId),
        quantity: event.data.quantity,
        lowStockThreshold: event.data.lowStockThreshold,
        removed: false,
        revision,
        position,
      };
      return { ...level, ...stamp } as Row;
    }
    case 'StockAdjusted':
      return row && { ...row, quantity: event.data.quantityAfter, revision, position, ...stamp };
    case 'StockCounted':
      return row && { ...row, quantity: event.data.countedQuantity, revision, position, ...stamp };
    case 'LowStockThresholdChanged':
      return row && { ...row, lowStockThreshold: event.data.lowStockThreshold, revision, position, ...stamp };
    case 'StockItemRemoved':
      return row && { ...row, quantity: 0, removed: true, revision, position, ...stamp };
    default:
      return row;
  }
}
