/**
 * Whether an error says the database (PostgreSQL, or KurrentDB holding the events) could not be reached, as opposed to a query it
 * refused: the connection was refused, reset or cut, or the server is starting up or
 * shutting down. Such a request may well succeed a moment later, so it is answered 503
 * with Retry-After (src/shared/http/problem.ts), never 500.
 *
 * The error may come from pg directly (the event store's append pool) or wrapped by
 * slonik (`cause`), or as an AggregateError of one attempt per address (Node's connect).
 */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATE: 08 connection exception; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down); 53300 too many connections. */
const isUnreachableSqlState = (code: string): boolean => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

const slonikConnectionErrors = new Set(['ConnectionError', 'BackendTerminatedError', 'BackendTerminatedUnexpectedlyError']);

/** pg's own words when the socket ends under it, and when its pool cannot get a connection in time. */
const pgMessages = [/^Connection terminated/i, /timeout exceeded when trying to connect/i, /Client has encountered a connection error/i];

/**
 * KurrentDB (@kurrent/kurrentdb-client): a server it could not reach, that did not answer in
 * time, or that cannot serve now (a leader change in a cluster). Its errors carry a `type`;
 * gRPC's own carry the status code (14 UNAVAILABLE, 4 DEADLINE_EXCEEDED).
 */
const kurrentUnreachableTypes = new Set(['unavailable', 'deadline-exceeded', 'not-leader']);
const grpcUnreachableCodes = new Set([4, 14]);

export const DATABASE_RETRY_AFTER_SECONDS = 2;

export function isDatabaseUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof candidate.name === 'string' && slonikConnectionErrors.has(candidate.name)) return true;
  if (typeof candidate.code === 'string' && (socketCodes.has(candidate.code) || (/^[0-9A-Z]{5}$/.test(candidate.code) && isUnreachableSqlState(candidate.code)))) {
    return true;
  }
  const { type } = error as { type?: unknown };
  if (typeof type === 'string' && kurrentUnreachableTypes.has(type)) return true;
  if (typeof candidate.code === 'number' && grpcUnreachableCodes.has(candidate.code) && 'details' in candidate) return true;
  if (typeof candidate.message === 'string' && pgMessages.some((pattern) => pattern.test(candidate.message as string))) return true;
  if (Array.isArray(candidate.errors) && candidate.errors.some((inner) => isDatabaseUnreachable(inner, depth + 1))) return true;
  return isDatabaseUnreachable(candidate.cause, depth + 1);
}
