import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN, type Client, type Harness, login, startHarness } from '../../support/app.js';

/** Security headers (helmet's) on every answer, the OWASP REST set under /api, a CSP on /docs that still lets the UI load, no-store where a token or a user is. */
const test = suite<{ harness: Harness; manager: Client }>('HTTP: security headers');

test.before(async (context) => {
  context.harness = await startHarness('headers');
  context.manager = await login(context.harness, ADMIN.username, ADMIN.password);
});
test.after(async ({ harness }) => harness.close());

const directives = (header: unknown): Map<string, string[]> =>
  new Map(
    String(header ?? '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!, values]),
  );

test('every answer: nosniff, no framing; an API answer may load nothing', async ({ harness, manager }) => {
  for (const response of [await manager.get('/api/stores'), await harness.app.inject({ method: 'GET', url: '/healthz' }), await harness.app.inject({ method: 'GET', url: '/api/nowhere' })]) {
    assert.is(response.headers['x-content-type-options'], 'nosniff', response.body);
    assert.is(response.headers['x-frame-options'], 'DENY');
    assert.match(String(response.headers['strict-transport-security']), /^max-age=\d+/);
    const csp = directives(response.headers['content-security-policy']);
    assert.equal(csp.get('default-src'), ["'none'"]);
    assert.equal(csp.get('frame-ancestors'), ["'none'"]);
  }
});

/** What helmet adds for documents, and that an /api answer (JSON or a file, loading nothing, credentials a bearer token) goes without. */
const documentOnly = [
  'referrer-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

test('an /api answer carries the OWASP REST set, an answer outside /api helmet\'s whole set', async ({ harness, manager }) => {
  // Answered, refused without a token, not found, refused by validation: each status path carries the same set.
  const api = [
    await manager.get('/api/auth/me'),
    await harness.app.inject({ method: 'GET', url: '/api/auth/me' }),
    await harness.app.inject({ method: 'GET', url: '/api/nowhere' }),
    await harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: {} }),
  ];
  assert.equal(
    api.map((response) => response.statusCode),
    [200, 401, 404, 400],
  );
  for (const response of api) {
    for (const name of documentOnly) assert.is(response.headers[name], undefined, `${name} on ${response.statusCode} ${response.body.slice(0, 100)}`);
    assert.is(response.headers['cache-control'], 'no-store');
  }
  for (const url of ['/healthz', '/docs']) {
    const response = await harness.app.inject({ method: 'GET', url });
    assert.is(response.headers['referrer-policy'], 'no-referrer', url);
    for (const name of documentOnly) assert.ok(response.headers[name] !== undefined, `${name} on ${url}`);
  }
});

test('answers that carry a token or a user are never stored: login, me, users, and their errors', async ({ harness, manager }) => {
  const loggedIn = await harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
  assert.is(loggedIn.statusCode, 200);
  const answers = [
    loggedIn,
    await harness.app.inject({ method: 'POST', url: '/api/auth/login', payload: { ...ADMIN, password: 'wrong-password-1' } }),
    await manager.get('/api/auth/me'),
    await manager.get('/api/users'),
    await manager.post('/api/users', { username: 'headers-sam', password: 'sam-password-1', role: 'auditor' }),
    await manager.get('/api/stores'),
  ];
  for (const response of answers) assert.is(response.headers['cache-control'], 'no-store', `${response.statusCode} ${response.body.slice(0, 200)}`);
});

test('/docs answers, its CSP allows what the page loads from this server and nothing inline or framed', async ({ harness }) => {
  const page = await harness.app.inject({ method: 'GET', url: '/docs' });
  assert.is(page.statusCode, 200, page.body);
  assert.match(String(page.headers['content-type']), /text\/html/);
  const csp = directives(page.headers['content-security-policy']);
  assert.equal(csp.get('script-src'), ["'self'"], 'scripts from this server only, none inline');
  assert.equal(csp.get('frame-ancestors'), ["'none'"]);
  assert.equal(csp.get('object-src'), ["'none'"]);
  assert.ok(csp.get('connect-src')?.includes("'self'"), 'the UI fetches the document from here');
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(page.body), 'no inline script (script-src has no unsafe-inline)');

  const loaded = [...page.body.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
  assert.ok(loaded.some((url) => url.endsWith('swagger-ui-bundle.js')), `the bundle is loaded: ${loaded.join(', ')}`);
  for (const url of [...loaded, '/docs/json']) {
    assert.ok(url.startsWith('/'), `${url} comes from this server (covered by 'self')`);
    const asset = await harness.app.inject({ method: 'GET', url });
    assert.is(asset.statusCode, 200, `${url}: ${asset.statusCode}`);
    assert.equal(directives(asset.headers['content-security-policy']).get('script-src'), ["'self'"], `${url} carries the docs CSP`);
  }
});

test.run();
