import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod/v4';
import { configSchema, loadConfig, roles } from '../../src/shared/config.js';

/**
 * compose.yaml and k8s/ cannot be started here (no Docker engine, no cluster), so they are
 * checked against the code: every variable they set is a setting the server reads, every
 * role exists, and the settings they give parse.
 */
const test = suite('deployment files stay true to the code');

const settings = new Set(Object.keys(configSchema.shape));
const knownSettings = (): Set<string> => settings;

const env = z.record(z.string(), z.unknown());
const container = z.looseObject({
  env: z.array(z.object({ name: z.string(), value: z.string() })),
  livenessProbe: z.object({ httpGet: z.object({ path: z.string() }) }),
  readinessProbe: z.object({ httpGet: z.object({ path: z.string() }) }),
});
const k8sDocument = z.looseObject({
  kind: z.string(),
  data: env.optional(),
  stringData: env.optional(),
  spec: z.looseObject({ template: z.object({ spec: z.object({ containers: z.array(container) }) }).optional() }).optional(),
});

const checkEnvironment = (where: string, environment: Record<string, unknown>) => {
  for (const name of Object.keys(environment)) assert.ok(knownSettings().has(name), `${where}: ${name} is not a setting of src/shared/config.ts`);
  if (typeof environment.ROLES === 'string') {
    for (const role of environment.ROLES.split(',')) assert.ok((roles as readonly string[]).includes(role), `${where}: unknown role ${role}`);
  }
};

/** Values an operator would put in .env, made up once per run. */
const dotEnv: Record<string, string> = {};

test('compose.yaml: every secret comes from .env (required, no fallback), and .env.example names each with no value', () => {
  const text = readFileSync('compose.yaml', 'utf8');
  const compose = parse(text, { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
  const secretSettings = ['JWT_SECRET', 'ADMIN_PASSWORD', 'DATABASE_URL', 'POSTGRES_PASSWORD', 'SMTP_URL'];
  const required = new Set<string>();
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (!secretSettings.includes(key)) continue;
      const text = String(value);
      // A URL may name a host without secrets (the SMTP catcher); a password in it must be interpolated.
      const password = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/.exec(text)?.[1];
      const secret = key === 'DATABASE_URL' || key === 'SMTP_URL' ? password : text;
      if (secret === undefined) continue;
      assert.match(secret, /^\$\{[A-Z_]+:\?[^}]+\}$/, `compose ${name}: ${key} must come from .env as \${NAME:?message}`);
      required.add(/^\$\{([A-Z_]+)/.exec(secret)?.[1] ?? '');
    }
  }
  assert.equal([...required].sort(), ['ADMIN_PASSWORD', 'JWT_SECRET', 'POSTGRES_PASSWORD']);
  const example = Object.fromEntries(
    readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  for (const name of required) assert.is(example[name], '', `.env.example lists ${name} with no value`);
  assert.match(readFileSync('.gitignore', 'utf8'), /^\.env$/m);
});

test('k8s: no Secret with values is shipped, so nothing usable is there by default', () => {
  const documents = parseAllDocuments(readFileSync('k8s/stockroom.yaml', 'utf8')).map((d) => k8sDocument.parse(d.toJS()));
  for (const document of documents.filter((d) => d.kind === 'Secret')) {
    for (const [key, value] of Object.entries({ ...document.data, ...document.stringData })) assert.is(value, '', `k8s Secret ships a value for ${key}`);
  }
  const configMap = documents.find((d) => d.kind === 'ConfigMap');
  for (const key of ['JWT_SECRET', 'ADMIN_PASSWORD', 'DATABASE_URL']) assert.not.ok(key in (configMap?.data ?? {}), `${key} is not in the ConfigMap`);
});

test('compose.yaml: every Stockroom service sets only real settings, valid roles, and a config that parses', () => {
  const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as { services: Record<string, { build?: string; environment?: Record<string, string> }> };
  const stockroom = Object.entries(compose.services).filter(([, service]) => service.build);
  assert.ok(stockroom.length >= 4);
  const covered = new Set<string>();
  for (const [name, service] of stockroom) {
    const environment = service.environment ?? {};
    checkEnvironment(`compose ${name}`, environment);
    // What an operator's .env gives: random values for what compose requires, defaults for the rest.
    const resolved = Object.fromEntries(
      Object.entries(environment).map(([k, v]) => [
        k,
        String(v).replace(/\$\{([A-Z_]+):([?-])([^}]*)\}/g, (_, name: string, kind: string, fallback: string) =>
          kind === '?' ? (dotEnv[name] ??= randomBytes(36).toString('base64url')) : fallback,
        ),
      ]),
    );
    const config = loadConfig(resolved);
    for (const role of config.ROLES) covered.add(role);
  }
  for (const role of roles) assert.ok(covered.has(role), `compose runs ${role}`);
});

test('k8s: one Deployment per role, env from the ConfigMap and Secret, all real settings', () => {
  const documents = parseAllDocuments(readFileSync('k8s/stockroom.yaml', 'utf8')).map((d) => k8sDocument.parse(d.toJS()));
  const configMap = documents.find((d) => d.kind === 'ConfigMap');
  const secret = documents.find((d) => d.kind === 'Secret');
  checkEnvironment('k8s ConfigMap', configMap?.data ?? {});
  checkEnvironment('k8s Secret', secret?.stringData ?? {});
  const deployments = documents.filter((d) => d.kind === 'Deployment');
  const containerOf = (d: z.infer<typeof k8sDocument>) => d.spec?.template?.spec.containers[0];
  const deployedRoles = deployments.map((d) => containerOf(d)?.env.find((e) => e.name === 'ROLES')?.value ?? '');
  for (const role of deployedRoles) checkEnvironment('k8s Deployment', { ROLES: role });
  assert.equal(deployedRoles.sort(), ['forwarder', 'mailer', 'projector', 'read-api,notifier', 'write-api']);
  for (const deployment of deployments) {
    assert.is(containerOf(deployment)?.livenessProbe.httpGet.path, '/healthz');
    assert.is(containerOf(deployment)?.readinessProbe.httpGet.path, '/readyz');
  }
});

test('nginx: an item history is a read (GET to read-api), never routed to write-api', () => {
  const nginx = readFileSync('deploy/nginx.conf', 'utf8');
  assert.not.match(nginx, /history\S*\s+write-api/);
  assert.match(nginx, /GET\s+read-api;/);
});

test.run();
