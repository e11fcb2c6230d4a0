import { readFileSync } from 'node:fs';
import { z } from 'zod/v4';

/** This release's version, from package.json (read once: it does not change while running). */
export const packageVersion: string = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;
