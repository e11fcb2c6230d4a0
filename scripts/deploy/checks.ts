import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod/v4';

/** A finding about one deployment file, printed by npm run lint:deploy and read by the tests. */
export interface Finding {
  file: string;
  problem: string;
}

const manifestHead = z.looseObject({ apiVersion: z.string().min(1), kind: z.string().regex(/^[A-Z][A-Za-z]+$/) });
/** What kubernetes-models' classes offer: construct from the document, validate() throws with the schema's errors. */
const modelClass = z.custom<new (data: unknown) => { validate(): void }>((value) => typeof value === 'function');

/**
 * Every document of a Kubernetes YAML file against the schemas of its apiVersion and kind,
 * from kubernetes-models (the API's OpenAPI schemas, compiled; no cluster needed).
 */
export async function checkKubernetesFile(file: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  for (const [index, document] of documents.entries()) {
    const where = `${file} (document ${index + 1})`;
    if (document.errors.length > 0) {
      findings.push({ file: where, problem: document.errors.map((error) => error.message).join('; ') });
      continue;
    }
    const data: unknown = document.toJS();
    if (data === null) continue;
    const head = manifestHead.safeParse(data);
    if (!head.success) {
      findings.push({ file: where, problem: `not a Kubernetes object: ${head.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}` });
      continue;
    }
    const { apiVersion, kind } = head.data;
    const group: Record<string, unknown> | null = await import(`kubernetes-models/${apiVersion}`).catch(() => null);
    const Model = modelClass.safeParse(group?.[kind]);
    if (!Model.success) {
      findings.push({ file: where, problem: `${apiVersion} ${kind} is not a Kubernetes kind` });
      continue;
    }
    try {
      new Model.data(data).validate();
    } catch (error) {
      findings.push({ file: where, problem: `${kind} ${JSON.stringify((data as { metadata?: { name?: string } }).metadata?.name ?? '')}: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return findings;
}

/** Every manifest under `directory`, subfolders included (k8s/templates holds what is not applied as it is). */
export async function kubernetesFiles(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await kubernetesFiles(file)));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) files.push(file);
  }
  return files.sort();
}

export async function checkKubernetesDirectory(directory: string): Promise<Finding[]> {
  const files = await kubernetesFiles(directory);
  if (files.length === 0) return [{ file: directory, problem: 'no manifest found' }];
  return (await Promise.all(files.map((file) => checkKubernetesFile(file)))).flat();
}

/**
 * compose.yaml against the Compose specification's schema, with dclint (which bundles the
 * schema, and lints): its errors are findings, its style warnings are not.
 */
export function checkComposeFile(file: string): Finding[] {
  const run = spawnSync('npx', ['--no-install', 'dclint', file, '--quiet', '--color', 'false', '--formatter', 'json'], { encoding: 'utf8' });
  const report = z
    .array(z.looseObject({ filePath: z.string(), messages: z.array(z.looseObject({ line: z.number().optional(), message: z.string(), rule: z.string().optional(), type: z.string().optional() })) }))
    .safeParse(safeJson(run.stdout));
  if (!report.success) return [{ file, problem: `dclint did not answer a report (exit ${run.status}): ${run.stderr || run.stdout}`.slice(0, 2000) }];
  return report.data.flatMap((entry) =>
    entry.messages.filter((message) => message.type !== 'warning').map((message) => ({ file: `${file}:${message.line ?? 0}`, problem: `${message.message} (${message.rule ?? 'schema'})` })),
  );
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};
