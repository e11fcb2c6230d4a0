import { z } from 'zod/v4';

/** What a `jsonb_to_recordset` upsert reads for one column. */
type StoredValue = string | number | boolean | null | readonly string[];

/** The columns of a row: one zod schema per field, for the value the table hands back. */
export type Columns<Row> = { [Field in keyof Row]-?: z.ZodType<Row[Field]> };

/**
 * How a projection's rows are stored, declared once: each field of the row is the column
 * of the same name in snake_case. The projector decodes what it loads with it, and a
 * projection's upsert encodes with it, so no projection maps columns to fields by hand.
 */
export interface RowCodec<Row> {
  /** A stored row (snake_case columns, as slonik returns them) → the row. */
  readonly schema: z.ZodType<Row>;
  decode(stored: unknown): Row;
  /** The row → what its upsert reads from JSON: snake_case, int8 as text, times as ISO 8601. */
  encode(row: Row): Record<string, StoredValue>;
}

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

const storedValue = (value: unknown): StoredValue => {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return value as StoredValue;
};

export function rowCodec<Row extends object>(columns: Columns<Row>): RowCodec<Row> {
  const fields = Object.keys(columns) as (keyof Row & string)[];
  // Named once: a projector encodes every row it writes, a rebuild millions of them.
  const names = fields.map((field) => [field, snakeCase(field)] as const);
  const stored = z.object(Object.fromEntries(names.map(([field, name]) => [name, columns[field]])));
  // Built from columns typed field by field against Row: the object it makes is a Row.
  const schema = stored.transform((raw) => {
    const row: Record<string, unknown> = {};
    for (const [field, name] of names) row[field] = raw[name];
    return row as Row;
  });
  return {
    schema,
    decode: (raw) => schema.parse(raw),
    encode: (row) => {
      const encoded: Record<string, StoredValue> = {};
      for (const [field, name] of names) encoded[name] = storedValue(row[field]);
      return encoded;
    },
  };
}

/** Column types as slonik's parsers hand them over. */
export const column = {
  /** int8 the row keeps as a JSON-safe number: revisions, quantities. */
  int8AsNumber: z.bigint().transform((value) => Number(value)),
  /** int8 kept whole: global positions. */
  int8: z.bigint(),
  /** timestamptz, which arrives as epoch milliseconds. */
  timestamp: z.number().transform((milliseconds) => new Date(milliseconds)),
};
