import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnreachable } from '../db/unreachable.js';
import { AppError, type FieldError } from '../errors.js';

/** RFC 9457 problem details; `errors` lists validation failures field by field. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  correlationId: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const field = (context: string | undefined, path: string): string => {
  const name = path.replace(/^\/+/, '').replaceAll('/', '.');
  if (!context || context === 'body') return name || 'body';
  const prefix = context === 'querystring' ? 'query' : context;
  return name ? `${prefix}.${name}` : prefix;
};

/** fastify's own errors (body parsing, size, content type, rate limit) with the field they concern. */
function fromFastifyError(error: FastifyError): { code: string; detail: string; errors?: FieldError[] } {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'malformed-json', detail: error.message, errors: [{ field: 'body', reason: error.message }] };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'payload-too-large', detail: error.message, errors: [{ field: 'body', reason: 'is too large' }] };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported-media-type', detail: 'Send the body as application/json.', errors: [{ field: 'content-type', reason: 'must be application/json' }] };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { code: 'uri-too-long', detail: 'A part of the path is longer than any id or code.', errors: [{ field: 'path', reason: 'is too long' }] };
    case 'FST_ERR_BAD_URL':
      return { code: 'bad-url', detail: error.message, errors: [{ field: 'path', reason: 'is not a valid URL path' }] };
    case 'FST_JWT_NO_AUTHORIZATION_IN_HEADER':
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID':
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
    case 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED':
    case 'FST_JWT_BAD_REQUEST':
      return { code: 'unauthorized', detail: error.message };
    default:
      if (error.statusCode === 429) return { code: 'rate-limited', detail: error.message };
      return { code: (error.code ?? 'error').toLowerCase(), detail: error.message };
  }
}

export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const base = { instance: request.url, correlationId: String(request.id) };
  if (error instanceof AppError) {
    return {
      type: `/problems/${error.code}`,
      title: titles[error.status] ?? 'Error',
      status: error.status,
      detail: error.message,
      ...base,
      ...error.extra,
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext;
    const errors = error.validation.flatMap((issue) => {
      // zod reports unknown fields once for the object; name each one instead.
      const keys = (issue.params as { keys?: unknown }).keys;
      if (issue.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
        return keys.map((key) => ({ field: field(context, `${issue.instancePath}/${String(key)}`), reason: 'is not a known field' }));
      }
      return [{ field: field(context, issue.instancePath), reason: issue.message }];
    });
    return {
      type: '/problems/validation',
      title: titles[400]!,
      status: 400,
      detail: errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
      ...base,
      errors,
    };
  }
  if (isDatabaseUnreachable(error)) {
    return {
      type: '/problems/database-unavailable',
      title: titles[503]!,
      status: 503,
      detail: 'The database cannot be reached right now; retry shortly.',
      ...base,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  }
  const fastifyError = error as FastifyError;
  const status = typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 ? fastifyError.statusCode : 500;
  if (status >= 500) {
    return { type: '/problems/internal', title: titles[500]!, status: 500, detail: 'Something went wrong on our side; it was logged with this correlation id.', ...base };
  }
  const { code, detail, errors } = fromFastifyError(fastifyError);
  return { type: `/problems/${code}`, title: titles[status] ?? 'Error', status, detail, ...base, ...(errors ? { errors } : {}) };
}

export const sendProblem = (reply: FastifyReply, problem: Problem): FastifyReply =>
  reply.code(problem.status).type('application/problem+json').send(problem);

/** One error handler for the whole server: every error leaves as problem+json. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    // A database outage or a contended stream is expected to pass: a warning, and a hint for when to come back.
    if (typeof problem.retryAfterSeconds === 'number') void reply.header('retry-after', String(problem.retryAfterSeconds));
    if (problem.type === '/problems/database-unavailable' || problem.type === '/problems/contended') {
      request.log.warn({ err: error }, 'request failed, the client may retry');
    } else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ problem: problem.type, status: problem.status }, 'request refused');
    if (error instanceof AppError && error.code === 'version-conflict' && typeof error.extra.revision === 'number') {
      void reply.header('etag', `"${error.extra.revision}"`);
    }
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: '/problems/route-not-found',
      title: titles[404]!,
      status: 404,
      detail: `No route ${request.method} ${request.url}.`,
      instance: request.url,
      correlationId: String(request.id),
    }),
  );
}
