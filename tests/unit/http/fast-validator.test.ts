import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';
import { fastObjectCheck, fastValidatorCompiler } from '../../../src/shared/http/fast-validator.js';
import { minPositionHeaders } from '../../../src/read/min-position.js';
import { itemParams, storeParam } from '../../../src/shared/http/contract.js';
import { asOfParam } from '../../../src/read/as-of.js';

/** The point read's query: one optional field the fast path cannot check itself. */
const itemQuery = z.strictObject({ asOf: asOfParam.optional() });

const UUID = '0192f0c4-7b7e-7c3a-9d1e-1a2b3c4d5e6f';
const compile = (schema: z.ZodType) => fastValidatorCompiler({ schema, method: 'GET', url: '/x', httpPart: 'params' });
const zodOf = (schema: z.ZodType, data: unknown) => {
  const result = schema.safeParse(data);
  return result.success ? { value: result.data } : { issues: result.error.issues };
};

test('the shapes of a point read take the fast path', () => {
  for (const schema of [itemParams, storeParam, minPositionHeaders, z.strictObject({ asOf: z.string().regex(/^\d+$/).optional() }), z.strictObject({}), itemQuery]) {
    assert.ok(fastObjectCheck(schema), 'compiled');
  }
});

test('any other schema is left to zod', () => {
  for (const schema of [
    z.object({ n: z.number() }),
    z.object({ s: z.string().max(3) }),
    z.object({ s: z.string().transform((value) => value.trim()) }),
    z.object({ s: z.string().default('a') }),
    z.object({ s: z.coerce.string() }),
    z.strictObject({ limit: z.preprocess((value) => value, z.int()) }),
    z.strictObject({ limit: z.int().default(50).optional() }),
    z.strictObject({ a: z.string().optional(), b: z.string().optional() }).refine((value) => (value.a === undefined) !== (value.b === undefined)),
    z.strictObject({ a: z.uuid(), b: z.int().optional() }).superRefine(() => {}),
    z.strictObject({ limit: z.string().optional().default('50') }),
  ]) {
    assert.is(fastObjectCheck(schema), null);
  }
});

test('every input: the same value or the same errors as zod alone', () => {
  const cases: [z.ZodType, unknown][] = [
    [itemParams, { storeId: UUID, skuId: UUID }],
    [itemParams, { storeId: UUID, skuId: 'nope' }],
    [itemParams, { storeId: UUID }],
    [itemParams, { storeId: UUID, skuId: UUID, extra: 'x' }],
    [itemParams, { storeId: UUID.toUpperCase(), skuId: UUID }],
    [itemParams, { storeId: 5, skuId: UUID }],
    [itemParams, null],
    [minPositionHeaders, { host: 'a', 'x-min-position': '12' }],
    [minPositionHeaders, { host: 'a', 'x-min-position': '12x' }],
    [minPositionHeaders, { host: 'a', 'x-min-position': ['1', '2'] }],
    [minPositionHeaders, { host: 'a' }],
    [z.strictObject({ asOf: z.string().regex(/^\d+$/).optional() }), {}],
    [z.strictObject({ asOf: z.string().regex(/^\d+$/).optional() }), { asOf: '3' }],
    [z.strictObject({ asOf: z.string().regex(/^\d+$/).optional() }), { asOf: 'x' }],
    [z.strictObject({ asOf: z.string().regex(/^\d+$/).optional() }), { other: '1' }],
    [itemQuery, {}],
    [z.strictObject({ a: z.string().optional(), b: z.number().optional() }).refine((value) => value.a !== undefined || value.b !== undefined, 'one of a, b'), {}],
    [itemQuery, { asOf: '12' }],
    [itemQuery, { asOf: '2026-03-01T12:00:00Z' }],
    [itemQuery, { asOf: 'yesterday' }],
    [itemQuery, { asOf: ['1', '2'] }],
    [itemQuery, { other: '1' }],
    [z.object({ asOf: asOfParam.optional(), n: z.string().optional() }), { extra: 'x' }],
  ];
  for (const [schema, data] of cases) {
    const fast = compile(schema)(data) as { value?: unknown; error?: unknown };
    const slow = zodOf(schema, data);
    if ('value' in slow) {
      assert.equal(fast.value, slow.value, JSON.stringify(data));
      assert.is(fast.error, undefined);
    } else {
      // Refused: zod's own answer through the type provider's compiler, the error unchanged.
      const alone = validatorCompiler({ schema, method: 'GET', url: '/x', httpPart: 'params' })(data) as { error?: unknown };
      assert.ok(fast.error, `refused: ${JSON.stringify(data)}`);
      assert.equal(JSON.stringify(fast.error), JSON.stringify(alone.error));
      assert.equal(String(fast.error), String(alone.error));
    }
  }
});

test.run();
