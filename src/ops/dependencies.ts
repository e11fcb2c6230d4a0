import nodemailer from 'nodemailer';
import { z } from 'zod/v4';
import { withTimeout } from './timeout.js';

export const dependencyView = z.object({
  name: z.enum(['event store', 'postgresql', 'redis', 'kafka', 'smtp']),
  healthy: z.boolean(),
  latencyMs: z.number().describe('How long the check took (its timeout when it had no answer)'),
  error: z.string().optional(),
});
export type DependencyView = z.infer<typeof dependencyView>;
export type DependencyName = DependencyView['name'];

/** Runs one check, bounded by `timeoutMs`, timing it; a failure is an answer, never an error. */
export async function checkDependency(name: DependencyName, check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyView> {
  const started = performance.now();
  const latencyMs = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    await withTimeout(check(), timeoutMs, name);
    return { name, healthy: true, latencyMs: latencyMs() };
  } catch (error) {
    return { name, healthy: false, latencyMs: latencyMs(), error: error instanceof Error ? error.message : String(error) };
  }
}

/** SMTP answers EHLO (and accepts the credentials of SMTP_URL): nodemailer's verify. */
export async function verifySmtp(url: string): Promise<void> {
  const transport = nodemailer.createTransport(url);
  try {
    await transport.verify();
  } finally {
    transport.close();
  }
}
