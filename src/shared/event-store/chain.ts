import { createHash } from 'node:crypto';
import type { EventMetadata } from './port.js';

/**
 * The hash chain of a stream (tamper evidence). Each event's metadata carries
 * `hash = sha256(previous hash + "\n" + canonical JSON of {id, type, data, metadata without
 * hash})`, where the previous hash of the first event is the stream's seed. It is computed by
 * the writer from the stream head it decided on, so it costs no round trip and needs nothing
 * of the store but that it keep metadata as given: it works the same for KurrentDB.
 *
 * Canonical JSON (keys sorted, no spaces, undefined dropped) because a store may give
 * back the same JSON differently spelled (PostgreSQL's jsonb reorders keys).
 */
export const chainSeed = (streamId: string): string => sha256(`stockroom.chain.v1\n${streamId}`);

export interface ChainedContent {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

export function chainHash(previous: string, event: ChainedContent): string {
  const { hash: _hash, ...metadata } = event.metadata;
  return sha256(`${previous}\n${canonicalJson({ id: event.id, type: event.type, data: event.data, metadata })}`);
}

/** The chain hash of a stored event: the one it carries, or (written before the chain) the one it would carry. */
export const hashOf = (previous: string, event: ChainedContent): string => event.metadata.hash ?? chainHash(previous, event);

/** One hash over the heads of every stream: what an auditor keeps elsewhere. Heads in stream id order. */
export function rootHash(heads: Iterable<readonly [streamId: string, hash: string]>): string {
  const hash = createHash('sha256').update('stockroom.root.v1\n');
  for (const [streamId, head] of [...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(`${streamId} ${head}\n`);
  return hash.digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
