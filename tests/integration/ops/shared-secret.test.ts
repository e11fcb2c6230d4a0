import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const run = promisify(execFile);
const start = (env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, encoding: 'utf8', timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, output: (error.stdout ?? '') + (error.stderr ?? '') }),
  );

test('a process on a shared DATABASE_URL without JWT_SECRET refuses to start, naming JWT_SECRET', async () => {
  // Nothing listens on port 1: the refusal must come before any connection is tried.
  const { code, output } = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres', ROLES: 'write-api' });
  assert.is(code, 2, output);
  assert.match(output, /JWT_SECRET: must be set when DATABASE_URL is/);
});

test.run();
