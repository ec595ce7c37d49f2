// Runs one container of a rendered pod with podman, as the kubelet would: its image, command, args,
// env, user, read-only root, dropped capabilities, no privilege escalation, emptyDirs as tmpfs and
// Secret volumes as read-only files. Host networking: Service names resolve to 127.0.0.1.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageInspector } from './checks.js';
import { effectiveSecurityContext, type Container, type PodSpec, type SecretStore } from './manifests.js';

const run = promisify(execFile);
/** Root podman on this kind of host: runc (crun refuses the hybrid cgroup layout), ulimits no higher than ours. */
export const PODMAN_FLAGS = [
  '--runtime',
  'runc',
  '--ulimit',
  'nofile=1024:1024',
  '--ulimit',
  'nproc=1024:1024',
];

export async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('podman', args, { maxBuffer: 32 << 20, timeout: timeoutMs });
  return stdout;
}

export interface RunSpec {
  name: string;
  pod: PodSpec;
  container: Container;
  env: Record<string, string>;
  hosts: string[];
  /** Directory where Secret volumes are written. */
  workDir: string;
  store: SecretStore;
  detach: boolean;
}

/** The podman arguments that say what the manifest says. */
export function podmanRunArgs(spec: RunSpec): string[] {
  const { pod, container } = spec;
  const sc = effectiveSecurityContext(pod, container);
  const args = ['run', '--name', spec.name, '--network', 'host', ...PODMAN_FLAGS, '--pull', 'never'];
  // A Deployment's pod restarts its container (restartPolicy Always), e.g. until migrations ran.
  if (spec.detach) args.push('--detach', '--restart', 'always');
  else args.push('--rm');
  if (sc.runAsUser !== undefined) args.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (pod.securityContext?.fsGroup !== undefined)
    args.push('--group-add', String(pod.securityContext.fsGroup));
  if (sc.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap.toLowerCase());
  for (const cap of sc.capabilities?.add ?? []) args.push('--cap-add', cap.toLowerCase());
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  for (const host of spec.hosts) args.push('--add-host', `${host}:127.0.0.1`);
  for (const [key, value] of Object.entries(spec.env)) args.push('--env', `${key}=${value}`);
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`${spec.name}: volumeMount ${mount.name} has no volume`);
    if (volume.emptyDir) {
      const size = volume.emptyDir.sizeLimit
        ? `,size=${volume.emptyDir.sizeLimit.replace(/i$/, '').toLowerCase()}`
        : '';
      args.push('--tmpfs', `${mount.mountPath}:rw,mode=1777${size}`);
    } else if (volume.secret || volume.configMap) {
      args.push('--volume', `${writeSecretVolume(spec, volume.name)}:${mount.mountPath}:ro`);
    } else if (volume.persistentVolumeClaim) {
      const dir = join(spec.workDir, 'pvc', volume.persistentVolumeClaim.claimName);
      mkdirSync(dir, { recursive: true });
      chownSync(dir, sc.runAsUser ?? 0, pod.securityContext?.fsGroup ?? sc.runAsGroup ?? 0);
      args.push('--volume', `${dir}:${mount.mountPath}`);
    }
  }
  if (container.workingDir) args.push('--workdir', container.workingDir);
  // command replaces the image's ENTRYPOINT (tini), args its CMD: as Kubernetes does.
  if (container.command) args.push('--entrypoint', JSON.stringify(container.command));
  args.push(container.image, ...(container.args ?? []));
  return args;
}

/** A Secret (or ConfigMap) volume: its keys as files, group-readable by fsGroup like the kubelet's. */
function writeSecretVolume(spec: RunSpec, volumeName: string): string {
  const volume = spec.pod.volumes?.find((v) => v.name === volumeName);
  const ref = volume?.secret ? `Secret/${volume.secret.secretName}` : `ConfigMap/${volume?.configMap?.name}`;
  const values = spec.store.get(ref) ?? {};
  const items =
    volume?.secret?.items ??
    volume?.configMap?.items ??
    Object.keys(values).map((key) => ({ key, path: key }));
  const dir = join(spec.workDir, 'volumes', `${spec.name}-${volumeName}`);
  mkdirSync(dir, { recursive: true });
  const group = spec.pod.securityContext?.fsGroup ?? 0;
  for (const item of items) {
    const file = join(dir, item.path);
    writeFileSync(file, values[item.key] ?? '');
    chownSync(file, 0, group);
    chmodSync(file, volume?.secret?.defaultMode ?? 0o440);
  }
  chmodSync(dir, 0o755);
  return dir;
}

/** Runs a container to completion; resolves with its exit code and output. */
export function runToCompletion(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** A container's log, stdout and stderr together (`podman logs` replays them on both streams). */
export async function containerLogs(name: string, tail = 40): Promise<string> {
  return (await runToCompletion(['logs', '--tail', String(tail), name])).output;
}

export async function imageSize(image: string): Promise<number> {
  return Number((await podman(['image', 'inspect', '--format', '{{.Size}}', image])).trim());
}

/** Looks inside images with a throw-away container (read-only, no network). */
export class PodmanInspector implements ImageInspector {
  private readonly cache = new Map<string, boolean | string | undefined>();

  private async sh(image: string, script: string, arg: string): Promise<string | undefined> {
    const result = await runToCompletion([
      'run',
      '--rm',
      ...PODMAN_FLAGS,
      '--pull',
      'never',
      '--network',
      'none',
      '--read-only',
      '--entrypoint',
      '/bin/sh',
      image,
      '-c',
      script,
      'sh',
      arg,
    ]);
    return result.code === 0 ? result.output.trim() : undefined;
  }

  async which(image: string, command: string): Promise<string | undefined> {
    const key = `which ${image} ${command}`;
    if (!this.cache.has(key)) {
      const found = command.startsWith('/')
        ? await this.sh(image, 'test -x "$1" && echo "$1"', command)
        : await this.sh(image, 'command -v "$1"', command);
      this.cache.set(key, found || undefined);
    }
    return this.cache.get(key) as string | undefined;
  }

  async exists(image: string, path: string, workingDir?: string): Promise<boolean> {
    const key = `exists ${image} ${workingDir ?? ''} ${path}`;
    if (!this.cache.has(key)) {
      const script = workingDir ? `cd "${workingDir}" && test -e "$1"` : 'test -e "$1"';
      this.cache.set(key, (await this.sh(image, script, path)) !== undefined);
    }
    return this.cache.get(key) as boolean;
  }
}
