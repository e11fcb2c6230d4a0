// CI: the deployment files checked without Docker or a cluster: compose.yaml with dclint
// (the Compose specification's schema), every manifest in k8s/ with kubernetes-models, then
// all of them against the code (scripts/deploy/against-code.ts: settings, roles, probes on
// real routes, ports, and every name one file points at).
// Usage: npm run lint:deploy   (the npm script then runs tests/unit/deployment*.test.ts)
import { composeProblems, kubernetesProblems, readDeploymentFiles } from './deploy/against-code.js';
import { checkComposeFile, checkKubernetesDirectory } from './deploy/checks.js';
import { servedRoutes } from './deploy/routes.js';

const files = await readDeploymentFiles();
const routes = await servedRoutes();
const findings = [
  ...checkComposeFile('compose.yaml'),
  ...(await checkKubernetesDirectory('k8s')),
  ...composeProblems(files, routes),
  ...kubernetesProblems(files, routes),
];
for (const finding of findings) console.error(`${finding.file}: ${finding.problem}`);
console.log(findings.length === 0 ? 'compose.yaml, .env.example, deploy/nginx.conf and k8s/: valid, and true to the code' : `${findings.length} problem(s) in the deployment files`);
process.exit(findings.length === 0 ? 0 : 1);
