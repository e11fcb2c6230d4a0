import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod/v4';
import { ConfigError, configSchema, loadConfig, roles } from '../../src/shared/config.js';
import type { Finding } from './checks.js';
import { kubernetesFiles } from './checks.js';

/**
 * compose.yaml, .env.example, the gateways' nginx configurations and k8s/ checked against the
 * code, without Docker or a cluster: every variable is a setting, every role is deployed, the
 * settings given parse, probes and health checks ask routes the server has, ports agree, and
 * every name one file points at (a service, a Deployment, a port) exists. Each check answers
 * findings, so that `npm run lint:deploy` prints them and the tests can show each one fires.
 */

const settings = new Set(Object.keys(configSchema.shape));

/** The HTTP routes the deployment files name, as the code registers them (scripts/deploy/routes.ts). */
export interface ServedRoutes {
  /** Paths every process answers, whatever its roles. */
  everyProcess: ReadonlySet<string>;
  /** Paths a process with the read-api role (and its notifier) answers. */
  readApi: ReadonlySet<string>;
}

// ---------------------------------------------------------------------------------------
// The files, parsed into the shapes the checks read.

const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const composeService = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  environment: stringMap.optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.looseObject({ condition: z.string().optional() }))]).optional(),
  healthcheck: z.looseObject({ test: z.union([z.string(), z.array(z.string())]) }).optional(),
  volumes: z.array(z.string()).optional(),
  deploy: z.looseObject({ replicas: z.number().optional() }).optional(),
});
const composeFile = z.looseObject({
  services: z.record(z.string(), composeService),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});
export type ComposeFile = z.infer<typeof composeFile>;

export interface K8sDocument {
  file: string;
  /** Parsed loosely; each check reads what it needs with a schema of its own. */
  data: { kind: string; metadata: { name: string }; [key: string]: unknown };
}
const k8sHead = z.looseObject({ kind: z.string(), metadata: z.looseObject({ name: z.string() }) });

export interface DeploymentFiles {
  compose: ComposeFile;
  /** The text of compose.yaml: interpolations are read from it. */
  composeText: string;
  envExample: string;
  nginx: string;
  k8s: K8sDocument[];
}

export async function readDeploymentFiles(root = '.'): Promise<DeploymentFiles> {
  const at = (file: string) => path.join(root, file);
  const composeText = await readFile(at('compose.yaml'), 'utf8');
  const k8s: K8sDocument[] = [];
  for (const file of await kubernetesFiles(at('k8s'))) {
    for (const document of parseAllDocuments(await readFile(file, 'utf8'))) {
      const data: unknown = document.toJS();
      if (data === null) continue;
      k8s.push({ file: path.relative(root, file), data: k8sHead.parse(data) });
    }
  }
  return {
    compose: composeFile.parse(parse(composeText, { merge: true })),
    composeText,
    envExample: await readFile(at('.env.example'), 'utf8'),
    nginx: await readFile(at('deploy/nginx.conf'), 'utf8'),
    k8s,
  };
}

// ---------------------------------------------------------------------------------------
// Settings

/** Names that are not settings of src/shared/config.ts, and roles that do not exist. */
function settingProblems(where: string, environment: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const name of Object.keys(environment)) {
    if (!settings.has(name)) findings.push({ file: where, problem: `${name} is not a setting of src/shared/config.ts` });
  }
  for (const role of rolesOf(environment)) {
    if (!(roles as readonly string[]).includes(role)) findings.push({ file: where, problem: `unknown role ${role} in ROLES` });
  }
  return findings;
}

const rolesOf = (environment: Record<string, string>): string[] =>
  (environment.ROLES ?? '').split(',').map((role) => role.trim()).filter(Boolean);

/** loadConfig's answer on these settings: a finding naming each problem, or none. */
function configProblems(where: string, environment: Record<string, string>): Finding[] {
  try {
    loadConfig(environment);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => ({ file: where, problem: `the server would refuse these settings: ${problem}` }));
    throw error;
  }
}

/** A value an operator could give a secret: random, of the form the setting wants. */
export function sampleSecret(name: string): string {
  const random = randomBytes(36).toString('base64url');
  const hex = randomBytes(24).toString('hex');
  switch (name) {
    case 'DATABASE_URL':
      return `postgres://stockroom:${hex}@stockroom-db-rw:5432/stockroom`;
    case 'EVENTSTOREDB_URL':
      return `esdb://stockroom:${hex}@kurrentdb-0.kurrentdb:2113?tls=true`;
    case 'REDIS_URL':
      return `redis://:${hex}@stockroom-redis:6379`;
    case 'SMTP_URL':
      return `smtp://stockroom:${hex}@smtp-relay.example.com:587`;
    default:
      return random;
  }
}

// ---------------------------------------------------------------------------------------
// compose.yaml and .env.example

/** `${NAME}`, `${NAME:?message}`, `${NAME:-default}` (empty or unset) and `${NAME-default}` (unset only). */
const interpolation = /\$\{([A-Z_][A-Z0-9_]*)(?:(:?)([?-])([^}]*))?\}/g;

/** .env.example's lines NAME=value. */
export function envExampleValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  return values;
}

/** An environment of compose with what an operator's .env gives: random secrets, .env.example's values. */
function resolveCompose(environment: Record<string, string>, example: Map<string, string>, secrets: Map<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      value.replace(interpolation, (_, name: string, colon: string | undefined, kind: string | undefined, fallback: string | undefined) => {
        if (kind === '?') {
          if (!secrets.has(name)) secrets.set(name, randomBytes(24).toString('hex'));
          return secrets.get(name)!;
        }
        const given = example.get(name);
        // `:-` replaces an empty value too; `-` only a missing one.
        if (colon === ':') return given || fallback || '';
        return given ?? fallback ?? '';
      }),
    ]),
  );
}

/** The Stockroom services: those built from this repository. */
const stockroomServices = (compose: ComposeFile) => Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

/** The port of the URL's host when that host is a compose service, else null. */
const hostOf = (url: string): { host: string; port: string } | null => {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: parsed.port };
  } catch {
    return null;
  }
};

export function composeProblems(files: DeploymentFiles, routes: ServedRoutes): Finding[] {
  const findings: Finding[] = [];
  const file = 'compose.yaml';
  const { compose } = files;
  const example = envExampleValues(files.envExample);
  const secrets = new Map<string, string>();

  // One source of settings: every variable compose reads is in .env.example, and back.
  const interpolated = new Map<string, { required: boolean; fallback: string | undefined }>();
  for (const match of files.composeText.matchAll(interpolation)) {
    interpolated.set(match[1]!, { required: match[3] === '?', fallback: match[3] === '-' ? match[4] : undefined });
  }
  for (const [name, { required, fallback }] of interpolated) {
    if (!example.has(name)) findings.push({ file: '.env.example', problem: `${name}, which compose.yaml reads, is not listed` });
    else if (required && example.get(name) !== '') findings.push({ file: '.env.example', problem: `${name} is a secret: it must be listed with no value` });
    else if (!required && fallback !== undefined && example.get(name) !== fallback) {
      findings.push({ file: '.env.example', problem: `${name}=${example.get(name)} differs from compose.yaml's default ${fallback}` });
    }
  }
  for (const name of example.keys()) {
    if (!interpolated.has(name)) findings.push({ file: '.env.example', problem: `${name} is listed but compose.yaml never reads it` });
  }

  const services = stockroomServices(compose);
  const covered = new Set<string>();
  for (const [name, service] of services) {
    const where = `${file} (${name})`;
    const environment = service.environment ?? {};
    findings.push(...settingProblems(where, environment));
    for (const key of ['JWT_SECRET', 'ADMIN_PASSWORD']) {
      const value = environment[key];
      if (value !== undefined && !/^\$\{[A-Z_]+:\?[^}]+\}$/.test(value)) findings.push({ file: where, problem: `${key} must come from .env as \${NAME:?message}` });
    }
    const resolved = resolveCompose(environment, example, secrets);
    findings.push(...configProblems(where, resolved));
    for (const role of rolesOf(resolved)) covered.add(role);

    // Every address is a service of this file, on the port it listens on.
    for (const key of ['DATABASE_URL', 'EVENTSTOREDB_URL', 'REDIS_URL', 'SMTP_URL']) {
      const address = resolved[key] && hostOf(resolved[key]);
      if (address && !(address.host in compose.services)) findings.push({ file: where, problem: `${key} names ${address.host}, which is not a service` });
    }
    for (const broker of (resolved.KAFKA_BROKERS ?? '').split(',').filter(Boolean)) {
      const [host, port] = broker.trim().split(':');
      const kafka = host ? compose.services[host] : undefined;
      if (!kafka) findings.push({ file: where, problem: `KAFKA_BROKERS names ${host}, which is not a service` });
      else if (!(kafka.environment?.KAFKA_ADVERTISED_LISTENERS ?? '').includes(`${host}:${port}`)) {
        findings.push({ file: where, problem: `KAFKA_BROKERS ${broker} is not a listener ${host} advertises` });
      }
    }

    // Healthy means ready: the health check asks /readyz on the port the server listens on.
    const test = [service.healthcheck?.test ?? []].flat().join(' ');
    const probe = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[a-z]+)/.exec(test);
    if (!probe) findings.push({ file: where, problem: 'no health check asking the server over HTTP' });
    else {
      if (probe[1] !== resolved.PORT) findings.push({ file: where, problem: `the health check asks port ${probe[1]}, the server listens on ${resolved.PORT}` });
      if (probe[2] !== '/readyz' || !routes.everyProcess.has(probe[2])) findings.push({ file: where, problem: `the health check asks ${probe[2]}, not /readyz` });
    }
  }
  for (const role of roles) if (!covered.has(role)) findings.push({ file, problem: `no service runs the ${role} role` });

  // Start order by health: every dependency is waited for as healthy, and has a health check.
  for (const [name, service] of Object.entries(compose.services)) {
    const dependencies = service.depends_on ?? {};
    const waits: [string, string | undefined][] = Array.isArray(dependencies)
      ? dependencies.map((dependency) => [dependency, undefined])
      : Object.entries(dependencies).map(([dependency, { condition }]) => [dependency, condition]);
    for (const [dependency, condition] of waits) {
      if (!(dependency in compose.services)) findings.push({ file: `${file} (${name})`, problem: `depends on ${dependency}, which is not a service` });
      else if (condition !== 'service_healthy') findings.push({ file: `${file} (${name})`, problem: `waits for ${dependency} to start, not to be healthy` });
      else if (!compose.services[dependency]!.healthcheck) findings.push({ file: `${file} (${name})`, problem: `waits for ${dependency} to be healthy, which has no health check` });
    }
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (!source.startsWith('.') && !source.startsWith('/') && !(source in (compose.volumes ?? {}))) {
        findings.push({ file: `${file} (${name})`, problem: `volume ${source} is not declared under volumes:` });
      }
    }
  }

  // Replicas: two of each API, and a standby beside the forwarder.
  for (const role of ['write-api', 'read-api', 'forwarder']) {
    const replicas = services.filter(([, service]) => rolesOf(service.environment ?? {}).includes(role)).reduce((sum, [, service]) => sum + (service.deploy?.replicas ?? 1), 0);
    if (replicas < 2) findings.push({ file, problem: `${role} runs ${replicas} replica(s): two are wanted (the forwarder's second is its standby)` });
  }

  findings.push(...nginxProblems(files, routes));
  return findings;
}

// ---------------------------------------------------------------------------------------
// The gateways

/** The `map` blocks of an nginx configuration, whitespace normalised: the routing rules. */
export function nginxMaps(text: string): string[] {
  const withoutComments = text.replace(/#[^\n]*/g, '');
  return [...withoutComments.matchAll(/map\s+\$\w+\s+\$\w+\s*\{[^}]*\}/g)].map((match) => match[0].replace(/\s+/g, ' '));
}

/** The value each routing variable takes: `map` outputs and `set` targets, by variable. */
function nginxUpstreams(text: string): Map<string, Map<string, string>> {
  const upstreams = new Map<string, Map<string, string>>();
  const withoutComments = text.replace(/#[^\n]*/g, '');
  for (const match of withoutComments.matchAll(/map\s+\$\w+\s+\$(\w+)\s*\{([^}]*)\}/g)) {
    const entries = new Map<string, string>();
    for (const line of match[2]!.split(';')) {
      const [key, value] = line.trim().split(/\s+/);
      if (key && value) entries.set(key, value);
    }
    upstreams.set(match[1]!, entries);
  }
  return upstreams;
}

function nginxProblems(files: DeploymentFiles, routes: ServedRoutes): Finding[] {
  const findings: Finding[] = [];
  const file = 'deploy/nginx.conf';
  const text = files.nginx.replace(/#[^\n]*/g, '');
  const services = files.compose.services;
  const environmentOf = (name: string) => resolveCompose(services[name]?.environment ?? {}, envExampleValues(files.envExample), new Map());
  const runs = (name: string, role: string) => services[name] !== undefined && rolesOf(environmentOf(name)).includes(role);

  const gateway = Object.entries(services).find(([, service]) => (service.volumes ?? []).some((volume) => volume.startsWith('./deploy/nginx.conf:')));
  if (!gateway) findings.push({ file: 'compose.yaml', problem: 'no service mounts deploy/nginx.conf' });

  const maps = nginxUpstreams(files.nginx);
  const byMethod = maps.get('stockroom_backend');
  if (!byMethod || !runs(byMethod.get('GET') ?? '', 'read-api')) findings.push({ file, problem: 'GET does not go to a service running read-api' });
  if (!byMethod || !runs(byMethod.get('default') ?? '', 'write-api')) findings.push({ file, problem: 'commands do not go to a service running write-api' });
  for (const [key, target] of maps.get('stockroom_route') ?? []) {
    if (target.startsWith('$')) continue;
    if (!runs(target, 'read-api') && !runs(target, 'write-api')) findings.push({ file, problem: `${key} goes to ${target}, which runs no API` });
  }
  // Every upstream is reached on the port its servers listen on.
  for (const match of text.matchAll(/proxy_pass\s+http:\/\/([^;:\s]+)(?::(\d+))?/g)) {
    const port = match[2];
    const targets = match[1]!.startsWith('$')
      ? [...(maps.get(match[1]!.slice(1))?.values() ?? []), ...[...text.matchAll(new RegExp(`set\\s+\\${match[1]}\\s+([^;\\s]+)`, 'g'))].map((set) => set[1]!)]
      : [match[1]!];
    for (const target of targets.filter((name) => !name.startsWith('$'))) {
      if (!(target in services)) findings.push({ file, problem: `proxy_pass to ${target}, which is not a service` });
      else if (port !== environmentOf(target).PORT) findings.push({ file, problem: `proxy_pass to ${target} on port ${port ?? 80}; it listens on ${environmentOf(target).PORT}` });
    }
  }
  // The websocket: /ws is proxied, with the upgrade, to processes that serve it.
  const ws = /location\s*=\s*\/ws\s*\{([^}]*)\}/.exec(text);
  if (!ws || !/proxy_set_header\s+Upgrade/.test(ws[1]!)) findings.push({ file, problem: 'no location for /ws carrying the websocket upgrade' });
  else {
    const variable = /proxy_pass\s+http:\/\/\$(\w+)/.exec(ws[1]!)?.[1];
    const target = variable ? new RegExp(`set\\s+\\$${variable}\\s+([^;\\s]+)`).exec(ws[1]!)?.[1] : /proxy_pass\s+http:\/\/([^;:\s]+)/.exec(ws[1]!)?.[1];
    if (!target || !runs(target, 'notifier') || !routes.readApi.has('/ws')) findings.push({ file, problem: `/ws goes to ${target ?? 'nothing'}, which does not run read-api with its notifier` });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------
// k8s/

const envVar = z.object({ name: z.string(), value: z.string() });
const httpProbe = z.object({ httpGet: z.looseObject({ path: z.string(), port: z.union([z.string(), z.number()]) }) });
const quantity = z.union([z.string(), z.number()]);
const container = z.looseObject({
  name: z.string(),
  env: z.array(envVar).default([]),
  envFrom: z.array(z.looseObject({ configMapRef: z.object({ name: z.string() }).optional(), secretRef: z.object({ name: z.string() }).optional() })).default([]),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number() })).default([]),
  startupProbe: httpProbe.optional(),
  livenessProbe: httpProbe.optional(),
  readinessProbe: httpProbe.optional(),
  resources: z.looseObject({ requests: z.record(z.string(), quantity).optional(), limits: z.record(z.string(), quantity).optional() }).optional(),
});
const deployment = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({
    replicas: z.number().default(1),
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.looseObject({
      metadata: z.looseObject({ labels: z.record(z.string(), z.string()) }),
      spec: z.looseObject({ containers: z.array(container).min(1) }),
    }),
  }),
});
type Deployment = z.infer<typeof deployment>;
const configData = z.looseObject({ metadata: z.looseObject({ name: z.string() }), data: z.record(z.string(), z.string()).default({}), stringData: z.record(z.string(), z.string()).default({}) });
const service = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  spec: z.looseObject({ selector: z.record(z.string(), z.string()), ports: z.array(z.looseObject({ name: z.string().optional(), port: z.number(), targetPort: z.union([z.string(), z.number()]) })) }),
});
const hpa = z.looseObject({ spec: z.looseObject({ scaleTargetRef: z.object({ kind: z.string(), name: z.string() }), minReplicas: z.number().default(1) }) });
const pdb = z.looseObject({ spec: z.looseObject({ selector: z.object({ matchLabels: z.record(z.string(), z.string()) }) }) });
const ingress = z.looseObject({
  spec: z.looseObject({
    rules: z.array(
      z.looseObject({
        http: z.object({
          paths: z.array(z.looseObject({ path: z.string(), backend: z.object({ service: z.object({ name: z.string(), port: z.object({ name: z.string().optional(), number: z.number().optional() }) }) }) })),
        }),
      }),
    ),
  }),
});

const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);

/** The Deployments running Stockroom: their container takes its settings from the ConfigMap `stockroom`. */
function stockroomDeployments(documents: K8sDocument[]): { file: string; deployment: Deployment; roles: string[] }[] {
  return documents
    .filter((document) => document.data.kind === 'Deployment')
    .map((document) => ({ file: document.file, deployment: deployment.parse(document.data) }))
    .filter(({ deployment }) => deployment.spec.template.spec.containers[0]!.envFrom.some((from) => from.configMapRef?.name === 'stockroom'))
    .map((entry) => ({ ...entry, roles: rolesOf(Object.fromEntries(entry.deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]))) }));
}

/** The container port a probe or Service names, by name or number. */
const portOf = (containers: z.infer<typeof container>[], port: string | number): number | undefined =>
  typeof port === 'number' ? port : containers.flatMap((c) => c.ports).find((p) => p.name === port)?.containerPort;

export function kubernetesProblems(files: DeploymentFiles, routes: ServedRoutes): Finding[] {
  const findings: Finding[] = [];
  const documents = files.k8s;
  const of = (kind: string) => documents.filter((document) => document.data.kind === kind);

  // The ConfigMap and the Secret template: real settings, no secret in the ConfigMap, no value in the template.
  const configMapDocument = of('ConfigMap').find((document) => document.data.metadata.name === 'stockroom');
  const configMap = configMapDocument ? configData.parse(configMapDocument.data).data : {};
  if (!configMapDocument) findings.push({ file: 'k8s/', problem: 'no ConfigMap stockroom' });
  else findings.push(...settingProblems(configMapDocument.file, configMap));
  const secretKeys = ['DATABASE_URL', 'EVENTSTOREDB_URL', 'JWT_SECRET', 'ADMIN_PASSWORD', 'REDIS_URL', 'SMTP_URL'];
  for (const key of secretKeys) if (key in configMap) findings.push({ file: configMapDocument!.file, problem: `${key} may carry a secret: it belongs in the Secret` });

  const secrets = of('Secret');
  const template = secrets.find((document) => document.data.metadata.name === 'stockroom');
  let templateData: Record<string, string> = {};
  if (!template) findings.push({ file: 'k8s/', problem: 'no template of the Secret stockroom' });
  else {
    const parsed = configData.parse(template.data);
    templateData = { ...parsed.data, ...parsed.stringData };
    findings.push(...settingProblems(template.file, templateData));
    for (const [key, value] of Object.entries(templateData)) if (value !== '') findings.push({ file: template.file, problem: `ships a value for ${key}` });
    for (const key of ['DATABASE_URL', 'EVENTSTOREDB_URL', 'JWT_SECRET', 'ADMIN_PASSWORD']) if (!(key in templateData)) findings.push({ file: template.file, problem: `does not name ${key}` });
  }
  // `kubectl apply -f k8s/` must never apply a Secret: it would blank the operator's.
  for (const secret of secrets) {
    if (path.dirname(secret.file) === 'k8s') findings.push({ file: secret.file, problem: 'a Secret in k8s/ itself is applied by `kubectl apply -f k8s/`; keep templates in k8s/templates/' });
  }

  const deployments = stockroomDeployments(documents);
  const covered = new Set<string>();
  const port = configMap.PORT;
  for (const { file, deployment, roles: deployedRoles } of deployments) {
    const where = `${file} (${deployment.metadata.name})`;
    const containers = deployment.spec.template.spec.containers;
    const main = containers[0]!;
    for (const from of main.envFrom) {
      if (from.configMapRef && from.configMapRef.name !== 'stockroom') findings.push({ file: where, problem: `reads ConfigMap ${from.configMapRef.name}, which k8s/ does not ship` });
      if (from.secretRef && from.secretRef.name !== 'stockroom') findings.push({ file: where, problem: `reads Secret ${from.secretRef.name}, which k8s/templates/ does not describe` });
    }
    const own = Object.fromEntries(main.env.map((e) => [e.name, e.value]));
    findings.push(...settingProblems(where, own));
    // What the pod gets once the operator filled the Secret in.
    const filled = Object.fromEntries(Object.keys(templateData).map((key) => [key, sampleSecret(key)]));
    findings.push(...configProblems(where, { ...configMap, ...filled, ...own }));
    for (const role of deployedRoles) covered.add(role);
    if (selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels) === false) findings.push({ file: where, problem: 'its selector does not select its own pods' });

    if (port !== undefined && !main.ports.some((p) => String(p.containerPort) === port)) findings.push({ file: where, problem: `no container port ${port}, where the server listens (PORT)` });
    const probes = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' } as const;
    for (const [probe, wanted] of Object.entries(probes) as [keyof typeof probes, string][]) {
      const given = main[probe];
      if (!given) {
        if (probe !== 'startupProbe') findings.push({ file: where, problem: `no ${probe}` });
        continue;
      }
      if (given.httpGet.path !== wanted || !routes.everyProcess.has(given.httpGet.path)) findings.push({ file: where, problem: `${probe} asks ${given.httpGet.path}, not ${wanted}` });
      const probed = portOf(containers, given.httpGet.port);
      if (probed === undefined || String(probed) !== port) findings.push({ file: where, problem: `${probe} asks port ${given.httpGet.port}, the server listens on ${port}` });
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (main.resources?.[kind]?.[resource] === undefined) findings.push({ file: where, problem: `no ${resource} ${kind}` });
      }
    }
  }
  for (const role of roles) if (!covered.has(role)) findings.push({ file: 'k8s/', problem: `no Deployment runs the ${role} role` });
  for (const role of ['write-api', 'read-api', 'forwarder']) {
    const replicas = deployments.filter((d) => d.roles.includes(role)).reduce((sum, d) => sum + d.deployment.spec.replicas, 0);
    if (replicas < 2) findings.push({ file: 'k8s/', problem: `${role} runs ${replicas} replica(s): two are wanted (the forwarder's second is its standby)` });
  }

  // Every Deployment (Stockroom's and the gateway) has a PodDisruptionBudget; the APIs an autoscaler.
  const allDeployments = of('Deployment').map((document) => ({ file: document.file, deployment: deployment.parse(document.data) }));
  const budgets = of('PodDisruptionBudget').map((document) => pdb.parse(document.data));
  for (const { file, deployment: d } of allDeployments) {
    if (!budgets.some((budget) => selects(budget.spec.selector.matchLabels, d.spec.template.metadata.labels))) {
      findings.push({ file, problem: `no PodDisruptionBudget selects the pods of ${d.metadata.name}` });
    }
  }
  const autoscalers = of('HorizontalPodAutoscaler').map((document) => hpa.parse(document.data));
  for (const role of ['write-api', 'read-api']) {
    for (const { deployment: d } of deployments.filter((entry) => entry.roles.includes(role))) {
      if (!autoscalers.some((a) => a.spec.scaleTargetRef.kind === 'Deployment' && a.spec.scaleTargetRef.name === d.metadata.name)) {
        findings.push({ file: 'k8s/', problem: `no HorizontalPodAutoscaler scales ${d.metadata.name} (${role})` });
      }
    }
  }
  for (const autoscaler of autoscalers) {
    if (!allDeployments.some(({ deployment: d }) => d.metadata.name === autoscaler.spec.scaleTargetRef.name)) {
      findings.push({ file: 'k8s/', problem: `a HorizontalPodAutoscaler scales ${autoscaler.spec.scaleTargetRef.name}, which is not a Deployment` });
    }
  }

  // Services select pods and reach a port they have.
  const services = of('Service').map((document) => ({ file: document.file, service: service.parse(document.data) }));
  const podsOf = (selector: Record<string, string>) => allDeployments.filter(({ deployment: d }) => selects(selector, d.spec.template.metadata.labels));
  for (const { file, service: s } of services) {
    const pods = podsOf(s.spec.selector);
    if (pods.length === 0) findings.push({ file, problem: `Service ${s.metadata.name} selects no Deployment's pods` });
    for (const p of s.spec.ports) {
      for (const { deployment: d } of pods) {
        if (portOf(d.spec.template.spec.containers, p.targetPort) === undefined) findings.push({ file, problem: `Service ${s.metadata.name} targets port ${p.targetPort}, which ${d.metadata.name} does not have` });
      }
    }
  }
  const serviceRuns = (name: string, role: string) => {
    const s = services.find((entry) => entry.service.metadata.name === name)?.service;
    return s !== undefined && deployments.some((d) => selects(s.spec.selector, d.deployment.spec.template.metadata.labels) && d.roles.includes(role));
  };

  // The Ingress: backends are Services with that port, and /ws reaches a notifier.
  const ingresses = of('Ingress');
  if (ingresses.length === 0) findings.push({ file: 'k8s/', problem: 'no Ingress' });
  let websocket = false;
  for (const document of ingresses) {
    for (const rule of ingress.parse(document.data).spec.rules) {
      for (const entry of rule.http.paths) {
        const backend = entry.backend.service;
        const target = services.find((s) => s.service.metadata.name === backend.name)?.service;
        if (!target) findings.push({ file: document.file, problem: `${entry.path} goes to Service ${backend.name}, which k8s/ does not have` });
        else if (!target.spec.ports.some((p) => (backend.port.name !== undefined ? p.name === backend.port.name : p.port === backend.port.number))) {
          findings.push({ file: document.file, problem: `${entry.path} goes to a port Service ${backend.name} does not have` });
        }
        if (entry.path === '/ws') {
          websocket = true;
          if (!serviceRuns(backend.name, 'notifier') || !routes.readApi.has('/ws')) findings.push({ file: document.file, problem: `/ws goes to ${backend.name}, which does not run read-api with its notifier` });
        }
      }
    }
  }
  if (ingresses.length > 0 && !websocket) findings.push({ file: 'k8s/', problem: 'the Ingress does not carry /ws' });

  // The cluster's gateway routes as the compose one does, to Services that run the APIs.
  const gatewayConfig = of('ConfigMap').find((document) => document.data.metadata.name === 'stockroom-gateway');
  const nginx = gatewayConfig ? configData.parse(gatewayConfig.data).data['default.conf'] : undefined;
  if (!gatewayConfig || nginx === undefined) findings.push({ file: 'k8s/', problem: 'no gateway configuration (ConfigMap stockroom-gateway, default.conf)' });
  else {
    if (JSON.stringify(nginxMaps(nginx)) !== JSON.stringify(nginxMaps(files.nginx))) {
      findings.push({ file: gatewayConfig.file, problem: 'its routing maps differ from deploy/nginx.conf' });
    }
    const upstreams = new Map([...nginx.matchAll(/upstream\s+([\w-]+)\s*\{\s*server\s+([\w.-]+):(\d+)\s*;/g)].map((match) => [match[1]!, { host: match[2]!, port: Number(match[3]) }]));
    for (const [upstream, role] of [['write-api', 'write-api'], ['read-api', 'read-api']] as const) {
      const server = upstreams.get(upstream);
      const target = server && services.find((s) => s.service.metadata.name === server.host)?.service;
      if (!server || !target) findings.push({ file: gatewayConfig.file, problem: `upstream ${upstream} is not a Service of k8s/` });
      else if (!serviceRuns(server.host, role)) findings.push({ file: gatewayConfig.file, problem: `upstream ${upstream} is Service ${server.host}, which does not run ${role}` });
      else if (!target.spec.ports.some((p) => p.port === server.port)) findings.push({ file: gatewayConfig.file, problem: `upstream ${upstream} uses port ${server.port}, which Service ${server.host} does not have` });
    }
  }
  return findings;
}
