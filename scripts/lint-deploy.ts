// CI: the deployment files checked without Docker or a cluster: compose.yaml with dclint
// (the Compose specification's schema), every manifest in k8s/ with kubernetes-models.
// Usage: npm run lint:deploy   (the npm script then runs tests/unit/deployment*.test.ts)
import { checkComposeFile, checkKubernetesDirectory } from './deploy/checks.js';

const findings = [...checkComposeFile('compose.yaml'), ...(await checkKubernetesDirectory('k8s'))];
for (const finding of findings) console.error(`${finding.file}: ${finding.problem}`);
console.log(findings.length === 0 ? 'compose.yaml and k8s/: valid' : `${findings.length} problem(s) in the deployment files`);
process.exit(findings.length === 0 ? 0 : 1);
