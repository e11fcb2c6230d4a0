import { ConfigError } from './config.js';

/**
 * What a command-line tool prints when it fails: always a sentence, never `undefined` (a
 * library may reject with nothing), with the causes it was wrapped around.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof Error) {
    const causes: string[] = [];
    for (let cause: unknown = error.cause, depth = 0; cause !== undefined && depth < 5; depth += 1) {
      causes.push(cause instanceof Error ? cause.message : String(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    const message = error.message || error.name;
    return causes.length ? `${message} (${causes.join('; ')})` : message;
  }
  if (error === undefined || error === null || error === '') return 'failed without saying why; run with LOG_LEVEL=debug for more';
  return typeof error === 'string' ? error : JSON.stringify(error);
}
