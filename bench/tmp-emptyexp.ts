import { startServer, runCannon } from './support/http.js';
const server = await startServer({ kind: 'empty' });
const token = 'x'.repeat(420);
const paths = Array.from({ length: 10000 }, (_, i) => `/empty?store=01J${String(i).padStart(23, '0')}&sku=01J${String(i).padStart(23, '0')}`);
for (const variant of ['plain', 'headers', 'setup', 'both', 'plain']) {
  const r = await runCannon({
    server, connections: 64, warmupSeconds: 2, seconds: 8,
    headers: variant === 'headers' || variant === 'both' ? { authorization: `Bearer ${token}` } : {},
    request: variant === 'setup' || variant === 'both'
      ? { method: 'GET', setupRequest: (req: any) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }) }
      : { method: 'GET', path: '/empty' },
  });
  console.log(variant, Math.round(r.operationsPerSecond), 'client', r.cpu?.clientMicrosPerOp?.toFixed(1), 'app', r.appCpuMicrosPerOp?.toFixed(1));
}
await server.stop();
