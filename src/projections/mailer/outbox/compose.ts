import { type DatabasePool, sql } from 'slonik';
import { z } from 'zod/v4';
import { READ_MODEL } from '../../postgres/read-model-schema.js';
import type { LowStockLine, LowStockMail } from '../template.js';
import type { MailRow } from './mails.js';

const lineRow = z.object({
  store_id: z.string(),
  sku_id: z.string(),
  quantity: z.bigint(),
  low_stock_threshold: z.number().int(),
  actor: z.string().nullable(),
  occurred_at: z.number(),
  store_name: z.string().nullable(),
  sku_code: z.string().nullable(),
  sku_name: z.string().nullable(),
  actor_username: z.string().nullable(),
});

/** The API path of one stock item, as the link in a mail shows it. */
export const itemPath = (storeId: string, skuId: string): string => `/api/inventory/stores/${storeId}/items/${skuId}`;

/**
 * The crossings of one mail with the names people know them by, read from the read model
 * when the mail is composed (a store renamed since the crossing shows its new name). A name
 * the read model does not have (it lags, or is being rebuilt) falls back to the id: a mail
 * with an id in it beats a mail held back.
 */
export async function composeLowStockMail(pool: DatabasePool, mail: MailRow, baseUrl: string): Promise<LowStockMail> {
  const table = (name: string) => sql.identifier([READ_MODEL, name]);
  const rows = (
    await pool.any(sql.unsafe`
      select c.store_id::text as store_id, c.sku_id::text as sku_id, c.quantity, c.low_stock_threshold, c.actor, c.occurred_at,
             st.name as store_name, sk.code as sku_code, sk.name as sku_name, au.username as actor_username
        from mail_outbox o
        join mail_crossings c on c.stream_id = o.stream_id and c.revision = o.revision
        left join ${table('stores')} st on st.id = c.store_id
        left join ${table('skus')} sk on sk.id = c.sku_id
        left join ${table('users')} au on au.id::text = c.actor
       where o.mail_id = ${mail.id}
       order by c.occurred_at, c.stream_id, c.revision`)
  ).map((raw) => lineRow.parse(raw));
  const lines: LowStockLine[] = rows.map((row) => ({
    skuCode: row.sku_code ?? row.sku_id,
    skuName: row.sku_name ?? '',
    quantity: Number(row.quantity),
    lowStockThreshold: row.low_stock_threshold,
    changedBy: row.actor_username ?? row.actor ?? 'the system',
    link: `${baseUrl}${itemPath(row.store_id, row.sku_id)}`,
    at: new Date(row.occurred_at),
  }));
  return { storeName: rows[0]?.store_name ?? mail.store_id, lines };
}
