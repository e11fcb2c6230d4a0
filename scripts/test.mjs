// Runs every uvu suite under tests/ in one Node process (TypeScript through tsx) and
// closes with the plain "N passed, N failed, N skipped" line that CI reads.
// Usage: npm test [-- <pattern>]   e.g. npm test -- unit
import { spawn } from 'node:child_process';

const filter = process.argv[2] ?? '';
const pattern = `^(?=.*(?:${filter})).*\\.test\\.ts$`;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'node_modules/uvu/bin.js', 'tests', pattern, '--color', 'false'],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } },
);

let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

child.on('close', (code) => {
  const count = (label) => Number(/^\s*(\d+)/.exec(output.split(`${label}:`).at(-1) ?? '')?.[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  const failed = Math.max(0, total - passed - skipped);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (code === 0 && total === 0) {
    console.error('No test ran.');
    process.exit(1);
  }
  if (code === 0 && process.env.CI && skipped > 0) {
    console.error('CI forbids skipped tests: every service a test needs must be there.');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
