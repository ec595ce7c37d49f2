import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = join(REPO_ROOT, 'charts', 'corral');
export const RELEASE = 'corral';
export const NAMESPACE = 'corral';

/** A rendered Kubernetes object, loosely typed: tests narrow what they read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

let helmPath: string | undefined;

/** helm from PATH; a missing helm is a failure with a fix, not a skip. */
export function helm(): string {
  if (helmPath) return helmPath;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'helm');
    if (dir && existsSync(candidate)) {
      helmPath = candidate;
      return candidate;
    }
  }
  throw new Error(
    'helm is not on PATH: install it with `bash scripts/ensure-helm.sh` (CI does this in .ci/run)',
  );
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runHelm(args: string[]): HelmResult {
  const result = spawnSync(helm(), args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` with values files and --set pairs; throws with helm's message on failure. */
export function renderChart(options: { valuesFiles?: string[]; set?: string[] } = {}): K8sObject[] {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  const stdout = execFileSync(helm(), args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseManifests(stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null && typeof obj === 'object');
}

/** Every scenario file in charts/corral/ci. */
export function ciValuesFiles(): string[] {
  const dir = join(CHART_DIR, 'ci');
  return readdirSync(dir)
    .filter((name) => name.endsWith('-values.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

export function findOne(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((obj) => obj.kind === kind && obj.metadata.name === name);
  if (!found) {
    const names = objects.filter((obj) => obj.kind === kind).map((obj) => obj.metadata.name);
    throw new Error(`no ${kind} named ${name}; rendered ${kind}s: ${names.join(', ') || 'none'}`);
  }
  return found;
}

/** Rendered YAML read by path in assertions: a wrong path fails the assertion, which is the check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
