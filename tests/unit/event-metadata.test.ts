import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventMetadataSchema, parseEventMetadata } from '../../src/shared/event-store/postgres/rows.js';

/**
 * parseEventMetadata is eventMetadataSchema written out by hand for the plain-pg reads (a
 * catch-up reads millions of rows): it must accept exactly what the schema accepts and
 * answer the same object, and refuse everything the schema refuses.
 */
const test = suite('event store: metadata read through pg, checked by hand as the schema checks it');

const good = { actor: 'user-1', correlationId: 'c-1', causationId: null, at: '2026-11-30T12:00:00.000Z', schemaVersion: 1 };
const hash = 'a'.repeat(64);

const accepted: unknown[] = [
  good,
  { ...good, actor: null, causationId: 'cause' },
  { ...good, schemaVersion: 2, idempotencyKey: 'key-1' },
  { ...good, hash },
  { ...good, hash, idempotencyKey: '' },
  { ...good, extra: 'dropped', nested: { deep: true } },
  { schemaVersion: 3, at: '', causationId: null, correlationId: '', actor: '' },
];

const refused: unknown[] = [
  null,
  undefined,
  'metadata',
  42,
  [],
  [good],
  {},
  { ...good, actor: 5 },
  { ...good, actor: undefined },
  { correlationId: 'c', causationId: null, at: 'x', schemaVersion: 1 },
  { ...good, correlationId: null },
  { ...good, causationId: undefined },
  { ...good, causationId: 7 },
  { ...good, at: null },
  { ...good, at: 1_700_000_000 },
  { ...good, schemaVersion: 0 },
  { ...good, schemaVersion: -1 },
  { ...good, schemaVersion: 1.5 },
  { ...good, schemaVersion: '1' },
  { ...good, schemaVersion: Number.NaN },
  { ...good, schemaVersion: Number.POSITIVE_INFINITY },
  { ...good, schemaVersion: 2 ** 53 },
  { ...good, idempotencyKey: null },
  { ...good, idempotencyKey: 5 },
  { ...good, hash: 'A'.repeat(64) },
  { ...good, hash: 'a'.repeat(63) },
  { ...good, hash: `${'a'.repeat(64)}\n` },
  { ...good, hash: null },
];

test('accepts what the schema accepts, and answers the same object', () => {
  for (const metadata of accepted) {
    const expected = eventMetadataSchema.parse(metadata);
    const actual = parseEventMetadata(metadata);
    assert.equal(actual, expected, JSON.stringify(metadata));
    assert.equal(Object.keys(actual), Object.keys(expected), `key order of ${JSON.stringify(metadata)}`);
    assert.is.not(actual, metadata, 'a new object, as zod makes');
  }
});

test('refuses what the schema refuses', () => {
  for (const metadata of refused) {
    assert.is(eventMetadataSchema.safeParse(metadata).success, false, `the schema accepts ${String(JSON.stringify(metadata))}: the case is wrong`);
    assert.throws(() => parseEventMetadata(metadata), /es_events row read through pg: metadata/, String(JSON.stringify(metadata)));
  }
});

test.run();
