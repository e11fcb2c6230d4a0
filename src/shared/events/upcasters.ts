/**
 * Old shapes are upcast on read, so deciders and projectors only ever see the current one.
 *
 * The schema version is one number for the whole catalogue (written into each event's
 * metadata). When a release changes the shape of some event types, it bumps
 * CURRENT_SCHEMA_VERSION and adds, for each changed type only, the function that turns its
 * data at the old version into the new: `upcasters[type][fromVersion]`. A type without an
 * entry for a version kept its shape across that bump. For example, if version 2 renamed
 * StockAdjusted's `note` to `comment`:
 *
 *   StockAdjusted: {
 *     1: (data) => {
 *       const { note, ...rest } = data as { note?: string | null };
 *       return { ...rest, comment: note ?? null };
 *     },
 *   },
 *
 * Upcasters never touch the stored events: the history stays as it was written (and its
 * hash chain with it: hashes cover the data as stored, not as upcast).
 *
 * Versions: 1, the first catalogue; 2, StockAdjusted gains `reference` (index.ts).
 */
export const CURRENT_SCHEMA_VERSION = 2;

/** Takes the data of one event at version v and gives it at version v + 1. */
export type Upcaster = (data: unknown) => unknown;

export type Upcasters<Type extends string> = {
  readonly [T in Type]?: Readonly<Record<number, Upcaster>>;
};

export function upcast<Type extends string>(
  upcasters: Upcasters<Type>,
  type: Type,
  data: unknown,
  fromVersion: number,
  toVersion = CURRENT_SCHEMA_VERSION,
): unknown {
  let current = data;
  for (let version = fromVersion; version < toVersion; version += 1) {
    const step = upcasters[type]?.[version];
    if (step) current = step(current);
  }
  return current;
}
