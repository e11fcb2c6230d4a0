/** A probe that has not answered within `ms` fails: a dependency that hangs must not hang the report. */
export function withTimeout<T>(probe: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  // The probe goes on in the background after a timeout; its late failure is nobody's concern.
  probe.catch(() => {});
  return Promise.race([probe, expired]).finally(() => clearTimeout(timer));
}
