import { createHash } from 'node:crypto';
import { z } from 'zod/v4';
import { CURRENT_SCHEMA_VERSION, upcasters as catalogueUpcasters } from '../events/index.js';
import type { Upcaster } from '../events/upcasters.js';

/** What produced a snapshot's state: everything a fold depends on. */
export interface SnapshotRecipe {
  /** The aggregate ("stock item"): two aggregates never share a snapshot. */
  aggregate: string;
  /**
   * Bumped by hand when the fold changes in a way the text below cannot see: a helper that
   * evolve calls, a constant it reads from another module.
   */
  stateVersion: number;
  evolve: (...args: never[]) => unknown;
  initialState: () => unknown;
  /** The state's zod schema: a snapshot is parsed with it when read back. */
  stateSchema: z.ZodType;
  /** The aggregate's events as the catalogue validates them (after upcasting). */
  eventSchema: z.ZodType;
  eventTypes: Iterable<string>;
  /** The catalogue's, unless a test says otherwise. */
  upcasters?: Readonly<Record<string, Readonly<Record<number, Upcaster>> | undefined>>;
  schemaVersion?: number;
}

/**
 * A snapshot is trusted only by code that would have folded the same state from the same
 * events. So the fingerprint hashes what the fold depends on: the source text of evolve and
 * initialState (as this process runs them, i.e. after tsx's transform), the JSON Schema of
 * the state and of the aggregate's events (a changed shape or default), the catalogue's
 * schema version and the source of every upcaster of the aggregate's event types, and a
 * version bumped by hand for changes outside those functions.
 *
 * `decide` is not in it: a snapshot is evolve's product, and decide only reads it.
 *
 * Errs on the side of a new fingerprint: a reformatted evolve, another tsx release or a
 * changed comment-free helper-less refactor all orphan the old snapshots (one full fold per
 * stream, then a new snapshot), which costs time, never correctness.
 */
export function snapshotFingerprint(recipe: SnapshotRecipe): string {
  const upcasters = recipe.upcasters ?? (catalogueUpcasters as NonNullable<SnapshotRecipe['upcasters']>);
  const types = [...recipe.eventTypes].sort();
  const parts = [
    'stockroom.snapshot.v1',
    recipe.aggregate,
    `state version ${recipe.stateVersion}`,
    `schema version ${recipe.schemaVersion ?? CURRENT_SCHEMA_VERSION}`,
    recipe.evolve.toString(),
    recipe.initialState.toString(),
    JSON.stringify(z.toJSONSchema(recipe.stateSchema)),
    JSON.stringify(z.toJSONSchema(recipe.eventSchema)),
    ...types.flatMap((type) =>
      Object.entries(upcasters[type] ?? {})
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([from, step]) => `upcast ${type} from ${from}: ${step.toString()}`),
    ),
  ];
  return createHash('sha256').update(parts.join('\n\u0000')).digest('hex');
}
