import pg from 'pg';
import { type CopyIn, copyText, openCopyIn } from '../../shared/db/copy-in.js';
import type { AppliedEventsProjection } from './projection.js';
import { ledgerLevels, stockLedgerProjection } from './projections/stock-ledger.js';

/**
 * The stock ledger as a rebuild writes it: one `COPY ... FROM STDIN` on a connection of its
 * own, open from the first batch to the end of the replay, instead of an insert of arrays
 * per batch (the ledger has a row per stock event: the read model's biggest table, and the
 * rebuild's biggest write). The rows are the ones stockLedgerProjection inserts, chosen
 * the same way; only the way they travel differs.
 *
 * Outside the batches' transactions, which is safe only because a rebuild is all or
 * nothing: the schema is private to it until the swap, a failed batch fails the whole
 * rebuild (the exclusive projector stops for good), and the next rebuild creates the
 * schema again. `finish` ends the COPY before the ledger's key is built again and before
 * the swap; what the swap applies after it goes through the usual insert.
 */
export class LedgerCopy {
  private opening: Promise<CopyIn> | null = null;
  private finished = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly schema: string,
  ) {}

  /** Replaces the ledger projection of `appliedEvents` with this one. */
  readonly projection: AppliedEventsProjection = {
    name: stockLedgerProjection.name,
    apply: async (tx, schema, applied, changes, options) => {
      if (this.finished) return stockLedgerProjection.apply(tx, schema, applied, changes, options);
      let lines = '';
      for (const level of ledgerLevels(applied)) {
        lines += `${copyText(level.storeId)}\t${copyText(level.skuId)}\t${level.position}\t${level.revision}\t${level.quantity}\t${level.lowStockThreshold}\t${level.removed ? 't' : 'f'}\n`;
      }
      if (lines.length === 0) return;
      const copy = await this.open();
      await copy.write(lines);
    },
  };

  private open(): Promise<CopyIn> {
    this.opening ??= openCopyIn(
      this.databaseUrl,
      `copy ${pg.escapeIdentifier(this.schema)}.stock_ledger (store_id, sku_id, position, revision, quantity, low_stock_threshold, removed) from stdin`,
    );
    return this.opening;
  }

  /** Ends the COPY (its rows are then committed); later batches insert as usual. */
  async finish(): Promise<void> {
    this.finished = true;
    if (this.opening) await (await this.opening).finish();
  }

  /** Drops what the COPY sent; never throws. */
  async abort(): Promise<void> {
    this.finished = true;
    const copy = await this.opening?.catch(() => null);
    await copy?.abort('the rebuild failed');
  }
}
