import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod/v4';

type JsonSchema = { [key: string]: unknown };

/**
 * The zod schema as the JSON schema fast-json-stringify compiles: what only validation reads
 * (formats, patterns, bounds) is dropped, and a nullable primitive (`anyOf` with null, which
 * fast-json-stringify resolves by validating each value) becomes a type list.
 */
function forStringify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forStringify);
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as JsonSchema;
  const anyOf = node.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const [first, second] = anyOf as JsonSchema[];
    const primitive = (part: JsonSchema | undefined) =>
      part !== undefined && Object.keys(part).every((key) => ['type', 'format', 'pattern', 'minimum', 'maximum', 'minLength', 'maxLength', 'description'].includes(key)) &&
      ['string', 'integer', 'number', 'boolean'].includes(String(part.type));
    if (second?.type === 'null' && Object.keys(second).length === 1 && primitive(first)) return { type: [first!.type, 'null'] };
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (['$schema', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'description'].includes(key)) continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as JsonSchema).map(([name, part]) => [name, forStringify(part)])) : forStringify(value);
  }
  return out;
}

/**
 * A route's 200 answer written by fast-json-stringify from its zod schema, compiled once,
 * instead of zod parsing the answer again and JSON.stringify (the type provider's default,
 * kept for every other status: problems are rare and small).
 *
 * What it trades: the answer is no longer checked against its schema at run time (a wrong
 * type would be coerced, not refused with a 500). The handlers of these routes build their
 * answers from rows zod has parsed on the way in, under the schema's static type.
 * Unknown properties are still left out, as zod left them out.
 */
export const fastSerializerCompiler: FastifySerializerCompiler<unknown> = (routeSchema) => {
  const { schema, httpStatus } = routeSchema as { schema: unknown; httpStatus?: string };
  if (httpStatus !== '200' || !(schema instanceof z.ZodType)) return serializerCompiler(routeSchema as Parameters<typeof serializerCompiler>[0]);
  const json = forStringify(z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' }));
  return fastJson(json as Parameters<typeof fastJson>[0]);
};
