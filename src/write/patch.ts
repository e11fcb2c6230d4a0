/**
 * Partial updates (PATCH) share two rules: a field left out (undefined) is not touched,
 * and a field given with its current value is no change, so it writes no event.
 */
type Patch<State> = { [Field in keyof State]?: State[Field] | undefined };

/** The given fields of `patch` whose value differs from `current`. */
export function changedFields<State, Given extends Patch<State>>(
  current: State,
  patch: Given,
): { [Field in keyof Given]?: Exclude<Given[Field], undefined> } {
  const changes: Partial<Record<keyof Given, unknown>> = {};
  for (const field of Object.keys(patch) as (keyof Given & keyof State)[]) {
    const next = patch[field];
    if (next !== undefined && !Object.is(current[field], next)) changes[field] = next;
  }
  return changes as { [Field in keyof Given]?: Exclude<Given[Field], undefined> };
}

/** True when the update names no field at all. */
export const isEmptyPatch = (patch: object): boolean => Object.values(patch).every((value) => value === undefined);

export const isEmpty = (changes: object): boolean => Object.keys(changes).length === 0;
