import { createHmac, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import * as assert from 'uvu/assert';
import type { Client, Harness } from './app.js';

/** The body of an RFC 9457 answer as Stockroom sends it. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; reason: string }[];
  [extension: string]: unknown;
}

export interface ProblemExpectation {
  /** The problem slug: `/problems/<type>`. */
  type?: string;
  /** Fields that must each be named in `errors`, with a non-empty reason. */
  fields?: string[];
  /** A pattern the reason of the first expected field must match. */
  reason?: RegExp;
}

const describe = (response: LightMyRequestResponse): string => `${response.statusCode} ${response.body.slice(0, 600)}`;

/** Asserts a problem+json answer with the status, and (when given) its type and the fields it names. */
export function assertProblem(response: LightMyRequestResponse, status: number, expected: ProblemExpectation = {}): ProblemBody {
  assert.is(response.statusCode, status, `expected ${status}, got ${describe(response)}`);
  assert.match(String(response.headers['content-type'] ?? ''), /^application\/problem\+json/, `content-type of ${describe(response)}`);
  const body = response.json<ProblemBody>();
  assert.is(body.status, status, 'status in the body');
  assert.type(body.title, 'string');
  assert.type(body.detail, 'string');
  assert.ok(body.detail.length > 0, 'a detail');
  if (expected.type !== undefined) assert.is(body.type, `/problems/${expected.type}`, describe(response));
  for (const [index, field] of (expected.fields ?? []).entries()) {
    const named = (body.errors ?? []).find((error) => error.field === field);
    assert.ok(named, `errors name ${field}: ${JSON.stringify(body.errors)}`);
    assert.ok(named.reason.trim().length > 0, `a reason for ${field}`);
    if (index === 0 && expected.reason) assert.match(named.reason, expected.reason);
  }
  return body;
}

/** Runs `send`, and asserts that the event store's head did not move: the request wrote nothing. */
export async function writesNothing(harness: Harness, send: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  const before = await harness.eventStore.headPosition();
  const response = await send();
  const after = await harness.eventStore.headPosition();
  assert.is(after, before, `the event store head moved from ${before} to ${after} after ${describe(response)}`);
  return response;
}

/** A refused request: the problem answer, and nothing written. */
export async function refused(
  harness: Harness,
  send: () => Promise<LightMyRequestResponse>,
  status: number,
  expected: ProblemExpectation = {},
): Promise<ProblemBody> {
  return assertProblem(await writesNothing(harness, send), status, expected);
}

export interface WrittenBody {
  revision: number;
  position: string;
  [field: string]: unknown;
}

/** Every command answers with `revision` (a number), `position` (a decimal string) and `ETag: "revision"`. */
export function assertWritten(response: LightMyRequestResponse, status = 200): WrittenBody {
  assert.is(response.statusCode, status, describe(response));
  assert.match(String(response.headers['content-type'] ?? ''), /^application\/json/);
  const body = response.json<WrittenBody>();
  assert.type(body.revision, 'number', `revision in ${response.body}`);
  assert.ok(Number.isInteger(body.revision) && body.revision >= 0, `revision ${body.revision}`);
  assert.type(body.position, 'string', `position in ${response.body}`);
  assert.match(body.position, /^\d+$/);
  assert.ok(BigInt(body.position) > 0n, 'a written position is above 0');
  assert.is(response.headers.etag, `"${body.revision}"`, 'ETag is the revision in quotes');
  return body;
}

/** A short random suffix for unique names. */
export const unique = (prefix: string): string => `${prefix}${randomBytes(4).toString('hex')}`;

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** An HS256 JWT signed with any secret: to forge tokens that the server must refuse. */
export function signJwt(payload: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const head = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** The claims of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error(`not a JWT: ${token}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The same token with its payload edited and the original signature kept. */
export function tamperedJwt(token: string, changes: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(JSON.stringify({ ...jwtClaims(token), ...changes }))}.${signature}`;
}

/** Registers a user through the API (as a manager) and answers its id. */
export async function createUser(
  manager: Client,
  user: { username: string; password: string; role: 'manager' | 'staff' | 'auditor'; storeIds?: string[] },
): Promise<string> {
  const response = await manager.post('/api/users', user);
  assert.is(response.statusCode, 201, `create user ${user.username}: ${describe(response)}`);
  return response.json<{ id: string }>().id;
}

/** A new SKU stocked in a store with `quantity`; answers the item's URL. */
export async function stockNewSku(manager: Client, storeId: string, quantity: number): Promise<{ skuId: string; itemUrl: string }> {
  const sku = await manager.post('/api/skus', { code: unique('SKU-'), name: 'Test item' });
  assert.is(sku.statusCode, 201, describe(sku));
  const skuId = sku.json<{ id: string }>().id;
  const item = await manager.post(`/api/inventory/stores/${storeId}/items`, { skuId, quantity });
  assert.is(item.statusCode, 201, describe(item));
  return { skuId, itemUrl: `/api/inventory/stores/${storeId}/items/${skuId}` };
}

export interface HistoryEntry {
  type: string;
  data: Record<string, unknown>;
  actor: string | null;
  at: string;
  reason?: string;
  note?: string | null;
  revision: number;
  position: string;
}

/** Every event of a stock item, following `next` to the end. */
export async function fullHistory(client: Client, itemUrl: string, limit = 1000): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page += 1) {
    const response = await client.get(`${itemUrl}/history?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.is(response.statusCode, 200, describe(response));
    const body = response.json<{ items: HistoryEntry[]; next: string | null }>();
    entries.push(...body.items);
    if (body.next === null) return entries;
    cursor = body.next;
  }
  throw new Error('history never ended');
}

/** The current quantity of an item, read from its history (the last event that sets it). */
export async function quantityOf(client: Client, itemUrl: string): Promise<number> {
  const entries = await fullHistory(client, itemUrl);
  for (const entry of [...entries].reverse()) {
    if (entry.type === 'StockAdjusted') return entry.data.quantityAfter as number;
    if (entry.type === 'StockCounted') return entry.data.countedQuantity as number;
    if (entry.type === 'StockItemAdded') return entry.data.quantity as number;
    if (entry.type === 'StockItemRemoved') return 0;
  }
  throw new Error(`no quantity in the history of ${itemUrl}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
