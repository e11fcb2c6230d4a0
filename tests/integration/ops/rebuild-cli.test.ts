import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmbeddedPostgres } from '../../../src/shared/db/embedded.js';
import { migrate } from '../../../src/shared/db/migrate.js';

const run = promisify(execFile);
const cli = (env: Record<string, string>, file = 'src/projections/rebuild-cli.ts') =>
  run(process.execPath, ['--import', 'tsx', file], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
    encoding: 'utf8',
  }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, output: (error.stdout ?? '') + (error.stderr ?? '') }),
  );

test('projections:rebuild on the embedded default uses the PostgreSQL the running server started', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'stockroom-rebuild-cli-'));
  // The running server (`npm start`) holds the embedded PostgreSQL of DATA_DIR.
  const server = await startEmbeddedPostgres(dataDir, () => {});
  try {
    await migrate(server.url);
    const { code, output } = await cli({ DATA_DIR: dataDir });
    assert.is(code, 0, output);
    assert.match(output, /using the running server's embedded PostgreSQL/);
    assert.match(output, /rebuild done/);
    // verify too, beside the running server.
    const verified = await cli({ DATA_DIR: dataDir }, 'src/ops/verify-cli.ts');
    assert.is(verified.code, 0, verified.output);
    assert.match(verified.output, /verified 0 events in 0 streams/);
    // A server that runs it as well would not be a second one on the same data: refused by name.
    await startEmbeddedPostgres(dataDir, () => {}).then(
      () => assert.unreachable('a second start on the same data must be refused'),
      (error: Error) => assert.match(error.message, /already running \(process \d+, port \d+\)/),
    );
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a failing rebuild prints what went wrong, never undefined', async () => {
  const { code, output } = await cli({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' });
  assert.is.not(code, 0);
  assert.match(output, /projections:rebuild failed: \S/);
  assert.not.match(output, /undefined/);
});

test.run();
