// The rendered chart, read the way the kubelet and Helm would: workloads, hooks, Secrets, Services.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = `${REPO_ROOT}charts/corral`;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}
export interface HttpProbe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: SecurityContext;
  startupProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
export interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string; medium?: string };
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  restartPolicy?: string;
}

/** One pod the rehearsal runs: a Deployment's or StatefulSet's first replica, a Job, a test pod. */
export interface Workload {
  kind: string;
  name: string;
  component: string;
  /** Helm hook phases (`post-install`, `test`, …); empty for ordinary resources. */
  hooks: string[];
  hookWeight: number;
  backoffLimit: number;
  spec: PodSpec;
}

export function renderChart(options: {
  valuesFiles?: string[];
  release?: string;
  namespace?: string;
  /** Another chart than this tree's (the previous release's, for the upgrade rehearsal). */
  chartDir?: string;
}): K8sObject[] {
  const args = [
    'template',
    options.release ?? 'corral',
    options.chartDir ?? CHART_DIR,
    '--namespace',
    options.namespace ?? 'corral',
  ];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  const text = execFileSync('helm', args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((obj): obj is K8sObject => obj !== null && typeof obj === 'object' && 'kind' in obj);
}

function podTemplate(obj: K8sObject): PodSpec | undefined {
  const spec = obj.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return spec as unknown as PodSpec;
  if (obj.kind === 'CronJob') {
    const job = (spec.jobTemplate as { spec: { template: { spec: PodSpec } } }).spec;
    return job.template.spec;
  }
  return (spec.template as { spec: PodSpec } | undefined)?.spec;
}

export function workloads(objects: K8sObject[]): Workload[] {
  const kinds = new Set(['Deployment', 'StatefulSet', 'Job', 'CronJob', 'Pod']);
  return objects
    .filter((obj) => kinds.has(obj.kind))
    .map((obj) => {
      const annotations = obj.metadata.annotations ?? {};
      const spec = obj.spec as { backoffLimit?: number; jobTemplate?: { spec: { backoffLimit?: number } } };
      return {
        kind: obj.kind,
        name: obj.metadata.name,
        component: obj.metadata.labels?.['app.kubernetes.io/component'] ?? obj.metadata.name,
        hooks: (annotations['helm.sh/hook'] ?? '').split(',').filter(Boolean),
        hookWeight: Number(annotations['helm.sh/hook-weight'] ?? 0),
        backoffLimit: spec.backoffLimit ?? spec.jobTemplate?.spec.backoffLimit ?? 6,
        spec: podTemplate(obj) as PodSpec,
      };
    })
    .filter((w) => w.spec !== undefined);
}

/** Hooks of one phase in the order Helm runs them: weight, then name. */
export function hooksOf(all: Workload[], phase: string): Workload[] {
  return all
    .filter((w) => w.hooks.includes(phase))
    .sort((a, b) => a.hookWeight - b.hookWeight || a.name.localeCompare(b.name));
}

/** Secret name -> key -> value, from rendered Secrets and the operator's own (existing) Secrets. */
export type SecretStore = Map<string, Record<string, string>>;

export function secretStore(objects: K8sObject[]): SecretStore {
  const store: SecretStore = new Map();
  for (const obj of objects) {
    if (obj.kind !== 'Secret' && obj.kind !== 'ConfigMap') continue;
    const values: Record<string, string> = { ...(obj.stringData ?? {}) };
    for (const [key, value] of Object.entries(obj.data ?? {})) {
      values[key] = obj.kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
    }
    store.set(`${obj.kind}/${obj.metadata.name}`, values);
  }
  return store;
}

/** The first container port of a Service's target, by Service name: host ports in the rehearsal. */
export function serviceNames(objects: K8sObject[]): string[] {
  return objects.filter((obj) => obj.kind === 'Service').map((obj) => obj.metadata.name);
}

export function effectiveSecurityContext(pod: PodSpec, container: Container): SecurityContext {
  return { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
}
