import { sql } from 'slonik';
import { READ_MODEL } from '../../shared/read-model/schema-name.js';

/**
 * Who gets a store's low-stock emails, as the read model knows them now: every manager and
 * the staff assigned to the store; each with an email, not deleted, and not having turned
 * the emails off. Asked when a crossing is recorded (who is owed a mail) and again when
 * its mail is formed (who still wants it: an opt-out inside the digest window counts).
 * `user` is the alias of read_model.users in the query, `storeId` the store's column.
 */
export const wantsLowStockMail = (user: string, storeId: string) => {
  const u = sql.identifier([user]);
  return sql.fragment`not ${u}.deleted and ${u}.email is not null and ${u}.low_stock_emails
    and (${u}.role = 'manager'
         or (${u}.role = 'staff' and exists (
               select 1 from ${sql.identifier([READ_MODEL, 'store_assignments'])} a where a.user_id = ${u}.id and a.store_id = ${sql.identifier(storeId.split('.'))})))`;
};

export const readModelUsers = sql.identifier([READ_MODEL, 'users']);
