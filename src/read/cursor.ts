import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod/v4';
import { ValidationFailed } from '../shared/errors.js';

/** Where a page ended: the last row's sort values (as text, null kept) and its id. */
export interface CursorPosition {
  values: (string | null)[];
  id: string;
}

const payloadSchema = z.object({ k: z.array(z.string().max(1000).nullable()).max(16), i: z.uuid() });

const refused = (reason: string) => new ValidationFailed([{ field: 'query.cursor', reason }], `query.cursor: ${reason}`);

/**
 * Opaque keyset cursors: `base64url(JSON).base64url(HMAC-SHA256)`. The MAC covers the
 * payload text exactly as sent AND the context it was made for (the list, its sort and its
 * filters), so a cursor that was edited, or reused with another sort or other filters,
 * is refused instead of silently answering a wrong page.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length === 0) throw new RangeError('cursorSecret must not be empty');
    // A key of its own: the secret may be shared with other uses (the JWT signing key).
    this.key = createHmac('sha256', secret).update('stockroom/list-cursor/v1').digest();
  }

  private mac(context: string, body: string): string {
    return createHmac('sha256', this.key).update(context).update('\n').update(body).digest('base64url');
  }

  encode(context: string, position: CursorPosition): string {
    const body = Buffer.from(JSON.stringify({ k: position.values, i: position.id })).toString('base64url');
    return `${body}.${this.mac(context, body)}`;
  }

  /** The position of a cursor made for this context with `arity` sort values; 400 otherwise. */
  decode(context: string, cursor: string, arity: number): CursorPosition {
    const parts = cursor.split('.');
    const [body, signature] = parts;
    if (parts.length !== 2 || !body || !signature) throw refused('is not a cursor: pass the `next` of an earlier page unchanged');
    const expected = Buffer.from(this.mac(context, body));
    const given = Buffer.from(signature);
    // Compared as text, not as decoded bytes: every character of the cursor counts.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw refused('was changed, or was made for another sort or other filters: pass the `next` of an earlier page of the same query');
    }
    let payload: z.infer<typeof payloadSchema>;
    try {
      payload = payloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw refused('is not a cursor of this list');
    }
    if (payload.k.length !== arity) throw refused('is not a cursor of this list');
    return { values: payload.k, id: payload.i };
  }
}

type Canonical = string | number | boolean | null | Canonical[] | { [key: string]: Canonical };

const canonical = (value: unknown): Canonical => {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  }
  return null;
};

/** What a cursor is bound to: the list, its sort spec and every filter (undefined ones dropped, keys sorted). */
export const cursorContext = (resource: string, sort: string, filters: Record<string, unknown>): string =>
  JSON.stringify([resource, sort, canonical(filters)]);
