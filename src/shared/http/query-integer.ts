import { z } from 'zod/v4';

/**
 * An integer in a query string, written in digits only. `z.coerce.number()` also took
 * `1e3`, `0x10`, ` 5` and `5.0`, none of which an integer in the OpenAPI document allows;
 * those stay strings here and are refused naming the parameter. The document shows the
 * integer schema it is given.
 */
export const queryInteger = <T extends z.ZodType<number>>(integer: T) =>
  z.preprocess((value) => (typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value), integer);
