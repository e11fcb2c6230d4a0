import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkComposeFile, checkKubernetesDirectory, checkKubernetesFile } from '../../scripts/deploy/checks.js';

/** compose.yaml and k8s/ against their schemas (dclint, kubernetes-models), as npm run lint:deploy checks them in CI. */
const test = suite<{ dir: string }>('deployment files against their schemas');

test.before(async (context) => {
  context.dir = await mkdtemp(path.join(tmpdir(), 'stockroom-deploy-'));
});
test.after(async ({ dir }) => rm(dir, { recursive: true, force: true }));

test('compose.yaml passes dclint (the Compose schema and its error rules)', () => {
  assert.equal(checkComposeFile('compose.yaml'), []);
});

test('every manifest in k8s/ is valid for its kind', async () => {
  assert.equal(await checkKubernetesDirectory('k8s'), []);
});

test('the checks do find problems: a compose key the schema lacks, a wrong field type, an unknown kind', async ({ dir }) => {
  const compose = path.join(dir, 'compose.yaml');
  await writeFile(compose, 'services:\n  api:\n    image: nginx:1.27\n    restart: sometimes\n    replicas_count: 2\n');
  const composeFindings = checkComposeFile(compose);
  assert.ok(composeFindings.length > 0, 'dclint refuses the schema violations');

  const manifest = path.join(dir, 'bad.yaml');
  await writeFile(
    manifest,
    [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: two\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: x, ports: [{containerPort: "http"}]}]}',
      'apiVersion: v1\nkind: Sevrice\nmetadata: {name: api}',
    ].join('\n---\n'),
  );
  const findings = await checkKubernetesFile(manifest);
  assert.is(findings.length, 2, JSON.stringify(findings));
  assert.match(findings[0]!.problem, /replicas|containerPort/);
  assert.match(findings[1]!.problem, /not a Kubernetes kind/);
});

test.run();
