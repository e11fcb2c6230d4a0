import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { composeProblems, type DeploymentFiles, type K8sDocument, kubernetesProblems, readDeploymentFiles, type ServedRoutes } from '../../scripts/deploy/against-code.js';
import { servedRoutes } from '../../scripts/deploy/routes.js';
import { loadConfig } from '../../src/shared/config.js';

/**
 * compose.yaml, .env.example, deploy/nginx.conf and k8s/ cannot be started here (no Docker
 * engine, no cluster), so they are checked against the code (scripts/deploy/against-code.ts):
 * every variable a setting, every role deployed, the settings parse, probes ask real routes,
 * ports agree. Each check is also shown to fire on a copy of the files with one fault.
 */
const test = suite<{ files: DeploymentFiles; routes: ServedRoutes }>('deployment files stay true to the code');

test.before(async (context) => {
  context.files = await readDeploymentFiles();
  context.routes = await servedRoutes();
});

const problems = (files: DeploymentFiles, routes: ServedRoutes) => [...composeProblems(files, routes), ...kubernetesProblems(files, routes)].map((f) => `${f.file}: ${f.problem}`);

/** A copy of the files with one change, and the findings on it. */
function withFault(context: { files: DeploymentFiles; routes: ServedRoutes }, change: (files: DeploymentFiles) => void): string[] {
  const files = structuredClone(context.files);
  change(files);
  return problems(files, context.routes);
}

const assertFinds = (found: string[], pattern: RegExp) => assert.ok(found.some((line) => pattern.test(line)), `expected a finding like ${pattern}, got:\n${found.join('\n')}`);

const k8sNamed = (files: DeploymentFiles, kind: string, name: string): K8sDocument['data'] => {
  const found = files.k8s.find((document) => document.data.kind === kind && document.data.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in k8s/`);
  return found.data;
};
/** A document read as the shape its kind has in the YAML, to change one field of a copy. */
const as = <T>(data: K8sDocument['data']): T => data as unknown as T;
/** The first container of a Deployment. */
const containerOf = (data: K8sDocument['data']) => as<{ spec: { template: { spec: { containers: Record<string, unknown>[] } } } }>(data).spec.template.spec.containers[0]!;

test('the routes the files name are served: /healthz, /readyz, /metrics by every process, /ws by the read API', ({ routes }) => {
  for (const path of ['/healthz', '/readyz', '/metrics']) assert.ok(routes.everyProcess.has(path), path);
  assert.ok(routes.readApi.has('/ws'));
  assert.not.ok(routes.everyProcess.has('/ws'));
});

test('compose.yaml, .env.example and deploy/nginx.conf agree with the code', (context) => {
  assert.equal(composeProblems(context.files, context.routes).map((f) => `${f.file}: ${f.problem}`), []);
});

test('k8s/ agrees with the code', (context) => {
  assert.equal(kubernetesProblems(context.files, context.routes).map((f) => `${f.file}: ${f.problem}`), []);
});

test('compose: a role left out, a setting that does not exist, an unhealthy start order, a wrong health check are found', (context) => {
  assertFinds(withFault(context, (files) => delete files.compose.services.mailer), /no service runs the mailer role/);
  assertFinds(
    withFault(context, (files) => (files.compose.services.projector!.environment!.PROJECTOR_THREADS = '4')),
    /PROJECTOR_THREADS is not a setting/,
  );
  assertFinds(withFault(context, (files) => (files.compose.services['read-api']!.environment!.ROLES = 'notifier')), /notifier serves the websockets/);
  assertFinds(
    withFault(context, (files) => (files.compose.services.forwarder!.depends_on = { postgres: { condition: 'service_started' } })),
    /forwarder\): waits for postgres to start, not to be healthy/,
  );
  assertFinds(
    withFault(context, (files) => (files.compose.services['write-api']!.healthcheck!.test = ['CMD', 'curl', '-f', 'http://127.0.0.1:3000/ready'])),
    /write-api\): the health check asks \/ready, not \/readyz/,
  );
  assertFinds(withFault(context, (files) => (files.compose.services['write-api']!.environment!.PORT = '8080')), /write-api\): the health check asks port 3000, the server listens on 8080/);
  assertFinds(withFault(context, (files) => (files.compose.services.forwarder!.deploy = { replicas: 1 })), /forwarder runs 1 replica/);
  assertFinds(withFault(context, (files) => (files.compose.services.mailer!.environment!.SMTP_URL = 'smtp://mailhog:1025')), /SMTP_URL names mailhog, which is not a service/);
});

test('.env.example: a variable compose reads but it lacks, a secret with a value, a default that differs are found', (context) => {
  assertFinds(withFault(context, (files) => (files.envExample = files.envExample.replace(/^LOG_LEVEL=.*$/m, ''))), /LOG_LEVEL, which compose.yaml reads, is not listed/);
  assertFinds(withFault(context, (files) => (files.envExample = files.envExample.replace(/^JWT_SECRET=$/m, 'JWT_SECRET=change-me'))), /JWT_SECRET is a secret/);
  assertFinds(withFault(context, (files) => (files.envExample = files.envExample.replace(/^LOGIN_RATE_LIMIT=.*$/m, 'LOGIN_RATE_LIMIT=99'))), /LOGIN_RATE_LIMIT=99 differs/);
  assertFinds(withFault(context, (files) => (files.envExample += 'UNUSED_SETTING=1\n')), /UNUSED_SETTING is listed but compose.yaml never reads it/);
});

test('.env.example: the events in PostgreSQL instead, as the README says (EVENT_STORE=postgres, EVENTSTOREDB_URL empty), parse; the URL left set is refused', (context) => {
  const switched = (files: DeploymentFiles, url: string) =>
    (files.envExample = files.envExample.replace(/^EVENT_STORE=.*$/m, 'EVENT_STORE=postgres').replace(/^EVENTSTOREDB_URL=.*$/m, `EVENTSTOREDB_URL=${url}`));
  // An operator's .env, not the example: only its departures from the defaults are reported.
  const beyondDefaults = (found: string[]) => found.filter((line) => !/differs from compose.yaml's default/.test(line));
  assert.equal(beyondDefaults(withFault(context, (files) => switched(files, ''))), []);
  assertFinds(withFault(context, (files) => switched(files, 'esdb://kurrentdb:2113?tls=false')), /EVENTSTOREDB_URL: is set but EVENT_STORE is postgres/);
});

test('nginx: queries sent to the write API, a wrong port, /ws without its notifier are found', (context) => {
  assertFinds(withFault(context, (files) => (files.nginx = files.nginx.replace(/GET\s+read-api;/, 'GET write-api;'))), /GET does not go to a service running read-api/);
  assertFinds(withFault(context, (files) => (files.nginx = files.nginx.replace('$stockroom_route:3000', '$stockroom_route:3001'))), /proxy_pass to (read|write)-api on port 3001/);
  assertFinds(withFault(context, (files) => (files.nginx = files.nginx.replace('set $stockroom_live read-api;', 'set $stockroom_live write-api;'))), /\/ws goes to write-api/);
});

test('nginx: an item history is a read (GET to read-api), never routed to write-api', () => {
  const nginx = readFileSync('deploy/nginx.conf', 'utf8');
  assert.not.match(nginx, /history\S*\s+write-api/);
  assert.match(nginx, /GET\s+read-api;/);
});

test('k8s: a role left out, a probe on a route that does not exist, a port that differs, missing limits are found', (context) => {
  assertFinds(
    withFault(context, (files) => (files.k8s = files.k8s.filter((d) => !(d.data.kind === 'Deployment' && d.data.metadata.name === 'stockroom-mailer')))),
    /no Deployment runs the mailer role/,
  );
  assertFinds(
    withFault(context, (files) => (containerOf(k8sNamed(files, 'Deployment', 'stockroom-projector')).readinessProbe = { httpGet: { path: '/health', port: 'http' } })),
    /stockroom-projector\): readinessProbe asks \/health, not \/readyz/,
  );
  assertFinds(
    withFault(context, (files) => (containerOf(k8sNamed(files, 'Deployment', 'stockroom-forwarder')).livenessProbe = { httpGet: { path: '/healthz', port: 8080 } })),
    /stockroom-forwarder\): livenessProbe asks port 8080, the server listens on 3000/,
  );
  assertFinds(
    withFault(context, (files) => (containerOf(k8sNamed(files, 'Deployment', 'stockroom-mailer')).resources = { requests: { cpu: '100m', memory: '128Mi' } })),
    /stockroom-mailer\): no cpu limits/,
  );
  assertFinds(
    withFault(context, (files) => (containerOf(k8sNamed(files, 'Deployment', 'stockroom-write-api')).env = [{ name: 'ROLE', value: 'write-api' }])),
    /ROLE is not a setting/,
  );
});

test('k8s: a Secret with a value, a secret in the ConfigMap, a Secret applied with the manifests are found', (context) => {
  assertFinds(withFault(context, (files) => (as<{ stringData: Record<string, string> }>(k8sNamed(files, 'Secret', 'stockroom')).stringData.JWT_SECRET = 'x'.repeat(48))), /ships a value for JWT_SECRET/);
  assertFinds(withFault(context, (files) => (as<{ data: Record<string, string> }>(k8sNamed(files, 'ConfigMap', 'stockroom')).data.JWT_SECRET = '')), /JWT_SECRET may carry a secret/);
  assertFinds(
    withFault(context, (files) => {
      const template = files.k8s.find((d) => d.data.kind === 'Secret')!;
      template.file = 'k8s/secret.yaml';
    }),
    /applied by `kubectl apply -f k8s\/`/,
  );
});

test('k8s: the Secret template as shipped is refused by the server, naming what is missing', ({ files }) => {
  const data = (name: string, kind: string) => {
    const found = as<{ data?: Record<string, string>; stringData?: Record<string, string> }>(k8sNamed(files, kind, name));
    return { ...found.data, ...found.stringData };
  };
  assert.throws(() => loadConfig({ ...data('stockroom', 'ConfigMap'), ...data('stockroom', 'Secret'), ROLES: 'write-api' }), /JWT_SECRET: must be set/);
});

test('k8s: an API without its autoscaler, a pod without a disruption budget, an Ingress that loses /ws are found', (context) => {
  assertFinds(
    withFault(context, (files) => (files.k8s = files.k8s.filter((d) => !(d.data.kind === 'HorizontalPodAutoscaler' && d.data.metadata.name === 'stockroom-read-api')))),
    /no HorizontalPodAutoscaler scales stockroom-read-api/,
  );
  assertFinds(
    withFault(context, (files) => (files.k8s = files.k8s.filter((d) => !(d.data.kind === 'PodDisruptionBudget' && d.data.metadata.name === 'stockroom-forwarder')))),
    /no PodDisruptionBudget selects the pods of stockroom-forwarder/,
  );
  const ingressPaths = (files: DeploymentFiles) =>
    as<{ spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] } }>(k8sNamed(files, 'Ingress', 'stockroom')).spec.rules[0]!.http.paths;
  assertFinds(withFault(context, (files) => (ingressPaths(files).find((p) => p.path === '/ws')!.backend.service.name = 'stockroom-write-api')), /\/ws goes to stockroom-write-api/);
  assertFinds(withFault(context, (files) => (ingressPaths(files).find((p) => p.path === '/')!.backend.service.name = 'gateway')), /goes to Service gateway, which k8s\/ does not have/);
});

test('k8s: a gateway that routes unlike deploy/nginx.conf, or to a Service that does not run the API, is found', (context) => {
  const gateway = (files: DeploymentFiles) => as<{ data: Record<string, string> }>(k8sNamed(files, 'ConfigMap', 'stockroom-gateway')).data;
  assertFinds(withFault(context, (files) => (gateway(files)['default.conf'] = gateway(files)['default.conf']!.replace('GET     read-api;', 'GET     write-api;'))), /routing maps differ/);
  assertFinds(
    withFault(context, (files) => (gateway(files)['default.conf'] = gateway(files)['default.conf']!.replace('server stockroom-read-api:80;', 'server stockroom-write-api:80;'))),
    /upstream read-api is Service stockroom-write-api, which does not run read-api/,
  );
});

test.run();
