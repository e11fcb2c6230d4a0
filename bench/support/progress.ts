/** Progress goes to stderr, so that stdout carries only the tables. */
const startedAt = performance.now();

export function progress(message: string): void {
  const elapsed = (performance.now() - startedAt) / 1000;
  const minutes = Math.floor(elapsed / 60);
  const seconds = Math.floor(elapsed % 60);
  process.stderr.write(`[bench ${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}] ${message}\n`);
}

export const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));
