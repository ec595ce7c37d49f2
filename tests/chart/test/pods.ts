import type { K8sObject, Loose } from './helm.js';

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: {
    name: string;
    hostPath?: unknown;
    secret?: { secretName?: string; items?: { key: string; path: string }[] };
  }[];
  runtimeClassName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
}

/** The pod template of any workload kind (or the Pod itself). */
export function podSpecOf(obj: K8sObject): PodSpec | undefined {
  const spec = obj.spec as Record<string, Loose> | undefined;
  switch (obj.kind) {
    case 'Pod':
      return spec as PodSpec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
      return spec?.template?.spec as PodSpec;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec as PodSpec;
    default:
      return undefined;
  }
}

/**
 * Violations of the `restricted` Pod Security Standard (plus a read-only root filesystem, which the
 * chart promises on top). Empty = compliant.
 */
export function restrictedViolations(pod: PodSpec): string[] {
  const problems: string[] = [];
  const podCtx = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push('host namespaces');
  for (const volume of pod.volumes ?? [])
    if (volume.hostPath) problems.push(`hostPath volume ${volume.name}`);
  if (podCtx.runAsUser === 0) problems.push('pod runAsUser 0');
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const ctx = container.securityContext ?? {};
    const where = `container ${container.name}`;
    if (ctx.privileged) problems.push(`${where}: privileged`);
    if (ctx.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if (!(ctx.capabilities?.drop ?? []).includes('ALL'))
      problems.push(`${where}: does not drop ALL capabilities`);
    const added = (ctx.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (added.length > 0) problems.push(`${where}: adds ${added.join(', ')}`);
    if ((ctx.runAsNonRoot ?? podCtx.runAsNonRoot) !== true)
      problems.push(`${where}: runAsNonRoot is not true`);
    if ((ctx.runAsUser ?? podCtx.runAsUser) === 0) problems.push(`${where}: runs as uid 0`);
    const seccomp = ctx.seccompProfile?.type ?? podCtx.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(`${where}: seccomp is not RuntimeDefault`);
    if (ctx.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
  }
  return problems;
}
