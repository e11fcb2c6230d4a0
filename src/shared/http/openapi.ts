import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod/v4';

type Json = Record<string, unknown>;
type Transform = NonNullable<FastifyDynamicSwaggerOptions['transform']>;
type TransformObject = NonNullable<FastifyDynamicSwaggerOptions['transformObject']>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The request body as the document shows it, when the route validates a wider shape
     * so that its errors name fields (the item PATCH: one of three shapes, checked by a
     * refinement). It must accept exactly what the route accepts.
     */
    documentedBody?: ZodType;
  }
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const commandMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const preHandlerNames = (handlers: unknown): string[] =>
  [handlers].flat().map((handler) => (typeof handler === 'function' ? handler.name : ''));

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/**
 * Per route: the zod schemas become JSON Schema (fastify-type-provider-zod), a documented
 * body replaces the validated one (its union is exclusive: `oneOf`), and what the route's
 * preHandlers honour is added as headers: Idempotency-Key where `idempotent` runs, and
 * If-Match on its changes (commandContext reads it for every command).
 */
export const openApiRouteTransform: Transform = (input) => {
  const documented = input.route.config?.documentedBody;
  const converted = jsonSchemaTransform({ ...input, schema: documented ? { ...input.schema, body: documented } : input.schema } as Parameters<typeof jsonSchemaTransform>[0]);
  const schema: Json = { ...(converted.schema as Json) };
  if (documented && isObject(schema.body) && Array.isArray(schema.body.anyOf)) {
    const { anyOf, ...rest } = schema.body;
    schema.body = { ...rest, oneOf: anyOf };
  }
  const methods = [input.route.method].flat().map((method) => String(method).toUpperCase());
  if (methods.some((method) => commandMethods.has(method)) && preHandlerNames(input.route.preHandler).includes('idempotent')) {
    const headers: Json = isObject(schema.headers) ? { ...schema.headers } : { type: 'object', properties: {} };
    headers.properties = {
      ...(headers.properties as Json),
      'idempotency-key': { type: 'string', minLength: 1, maxLength: 200, description: 'A repeat with the same key and request answers as the first did, once' },
      ...(methods.includes('POST') ? {} : { 'if-match': { type: 'string', pattern: '^(W/)?"?\\d{1,15}"?$', description: 'The revision you saw, as in its ETag ("3"); a mismatch is 409' } }),
    };
    schema.headers = headers;
  }
  return { ...converted, schema };
};

/**
 * The whole document: every error answer is problem+json (RFC 9457, as
 * src/shared/http/problem.ts writes it), every operation has an operationId and a
 * `default` problem answer, and the answers of a command carry ETag (and Location when
 * it creates), as `answer` in src/write/http.ts sets them; point reads with a revision
 * carry ETag too.
 */
export const openApiObjectTransform: TransformObject = (input) => {
  const document = structuredClone(('openapiObject' in input ? input.openapiObject : input.swaggerObject) as Json);
  const components = (document.components ??= {}) as Json;
  const schemas = (components.schemas ??= {}) as Json;
  schemas.Problem = {
    type: 'object',
    description: 'RFC 9457 problem details; errors name each field and why',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      errors: { type: 'array', items: { type: 'object', required: ['field', 'reason'], properties: { field: { type: 'string' }, reason: { type: 'string' } } } },
    },
  };
  components.headers = {
    ETag: { description: 'The revision of the resource, in quotes: send it back as If-Match', schema: { type: 'string' } },
    Location: { description: 'Where the created resource is read', schema: { type: 'string' } },
  };
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries((document.paths ?? {}) as Json)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!isObject(operation) || !isObject(operation.responses)) continue;
      let id = (operation.operationId as string | undefined) ?? operationIdOf(method, path);
      while (operationIds.has(id)) id += '_';
      operationIds.add(id);
      operation.operationId = id;
      const responses = operation.responses as Json;
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response)) continue;
        if (Number(status) >= 400) {
          responses[status] = { ...problemResponse(response.description === 'Default Response' ? describeStatus(status) : String(response.description)) };
          continue;
        }
        const content = isObject(response.content) ? (response.content['application/json'] as Json | undefined) : undefined;
        const properties = isObject(content?.schema) && isObject(content.schema.properties) ? content.schema.properties : {};
        const headers: Json = { ...(isObject(response.headers) ? response.headers : {}) };
        if ('revision' in properties && !Array.isArray(content?.schema)) headers.ETag = { $ref: '#/components/headers/ETag' };
        if (status === '201') headers.Location = { $ref: '#/components/headers/Location' };
        if (Object.keys(headers).length > 0) response.headers = headers;
      }
      responses.default ??= problemResponse('Any other error, e.g. 401 without a valid token or 503 while a dependency is down');
    }
  }
  return document as ReturnType<TransformObject>;
};

/** `GET /api/inventory/stores/{storeId}` → `getInventoryStoresByStoreId`. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'api')
    .map((segment) => (segment.startsWith('{') ? `by-${segment.slice(1, -1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/));
  return [method.toLowerCase(), ...words.map((word) => word.charAt(0).toUpperCase() + word.slice(1))].join('');
}

const statusTitles: Record<string, string> = {
  '400': 'A field is wrong: errors name each one',
  '401': 'No valid token',
  '403': 'Not allowed for this principal',
  '404': 'Not found',
  '409': 'A conflict: the revision moved (If-Match) or the name is taken',
  '413': 'The body is too large',
  '415': 'A body in a type this route does not take',
  '422': 'The request cannot be applied',
  '429': 'Too many attempts: Retry-After says when to try again',
  '503': 'Not ready or a dependency is down: Retry-After says when to try again',
};
const describeStatus = (status: string): string => statusTitles[status] ?? `Error ${status}`;
