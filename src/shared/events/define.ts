import { z } from 'zod/v4';

/** One member of an event union: a literal `type` beside the schema of its `data`. */
export const eventSchema = <const Type extends string, Data extends z.ZodType>(type: Type, data: Data) =>
  z.object({ type: z.literal(type), data });

/** Ids are UUIDs (v7, so they sort by creation); every id in an event is checked as one. */
export const Id = z.uuid();

/** A count of units: stock is counted in whole units and never goes below zero. */
export const Count = z.int().nonnegative();
export const isCount = (value: number): boolean => Count.safeParse(value).success;

/** Free text a person typed; null when they typed nothing. */
export const OptionalText = z.string().nullable();
