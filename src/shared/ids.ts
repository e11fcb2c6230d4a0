import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';

/** Ids are UUID v7: they sort by creation, which keeps indexes and keyset pages in order. */
export const newId = (): string => uuidv7();

const IDEMPOTENT_NAMESPACE = '6f0b8d9e-2c55-4c1e-9d0a-3f4b5c6d7e8f';

/**
 * The same inputs always give the same UUID. Events written under an Idempotency-Key get
 * such ids, so a repeat of the request is recognized by the event store itself, even when
 * the process died between the append and remembering the answer.
 */
export const deterministicId = (...parts: string[]): string => uuidv5(parts.join('\n'), IDEMPOTENT_NAMESPACE);
