// CI: builds the app in-process (every role, no listening socket; a PostgreSQL at
// DATABASE_URL, by default the local one, must accept a connection), writes
// its OpenAPI document to a temporary file and lints it with @redocly/cli, failing on errors.
// Usage: npm run lint:openapi [-- --keep]   (--keep prints where the document was written)
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from '../src/openapi-document.js';

const dir = await mkdtemp(path.join(tmpdir(), 'stockroom-openapi-'));
const file = path.join(dir, 'openapi.json');
await writeFile(file, JSON.stringify(await openApiDocument(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'), null, 2));
const config = new URL('../redocly.yaml', import.meta.url).pathname;
const lint = spawnSync('npx', ['--no-install', 'redocly', 'lint', file, '--config', config, '--format', 'codeframe'], { stdio: 'inherit' });
if (process.argv.includes('--keep')) console.log(`document: ${file}`);
else await rm(dir, { recursive: true, force: true });
process.exit(lint.status ?? 1);
