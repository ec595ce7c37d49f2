// Runs each service's real config loader against the env a rendered Deployment gives it.
// `@corral/service-kit` is aliased to its config module (vitest.config.ts, tsconfig paths), so the
// services' config files load without the rest of the kit (express, OpenTelemetry, …).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { ConfigError, baseEnvShape, loadConfig } from '../../../packages/service-kit/src/config.js';
import { authEnvShape, checkAuthConfig, type AuthConfig } from '../../../services/auth/src/config.js';
import { chatEnvShape } from '../../../services/chat-api/src/config.js';
import { gatewayEnvShape } from '../../../services/inference-gateway/src/config.js';
import { webEnvShape } from '../../../services/web/server/config.js';
import { findOne, type K8sObject, type Loose } from './helm.js';

export const SERVICE_SHAPES = {
  auth: authEnvShape,
  'chat-api': chatEnvShape,
  'inference-gateway': gatewayEnvShape,
  web: webEnvShape,
} as const;
export type ServiceName = keyof typeof SERVICE_SHAPES;
export const SERVICE_NAMES = Object.keys(SERVICE_SHAPES) as ServiceName[];

/** Variables the chart sets that no config schema reads, and who reads them instead. */
const CHART_HELPERS: Record<string, string> = {
  PGPASSWORD: 'node-postgres and libpq (the database password, kept out of DATABASE_URL)',
  CORRAL_DB_URL: 'expanded into DATABASE_URL',
  CORRAL_REDIS_PASSWORD: 'expanded into REDIS_URL',
  OTEL_SERVICE_NAME: "service-kit's otel-register",
  NODE_OPTIONS: 'node (V8 heap sizing)',
  MALLOC_MMAP_THRESHOLD_: "glibc's malloc",
};

/**
 * Secrets a service refuses to start without in production that its schema leaves optional:
 * the gateway checks its token in createApp, and chat-api must send that token on every call.
 */
const REQUIRED_IN_PRODUCTION: Partial<Record<ServiceName, string[]>> = {
  'inference-gateway': ['GATEWAY_SERVICE_TOKEN'],
  'chat-api': ['GATEWAY_SERVICE_TOKEN'],
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } } & Record<string, unknown>;
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}
interface Mount {
  name: string;
  mountPath: string;
}

/** Same value for the same Secret key everywhere, so services that share a secret can be compared. */
function dummySecret(secretName: string, key: string, variable: string): string {
  const strong = createHash('sha256').update(`${secretName}/${key}`).digest('hex');
  if (variable === 'CORRAL_DB_URL')
    return `postgresql://corral:${strong}@db.internal:5432/corral?sslmode=require`;
  if (variable === 'REDIS_URL') return `rediss://:${strong}@redis.internal:6379/0`;
  return strong;
}

/** A Secret the chart renders must hold the key; one it does not render is the user's (existingSecret). */
function checkSecretKey(objects: K8sObject[], secretName: string, key: string, problems: string[]): void {
  const rendered = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretName);
  if (rendered && !(key in (rendered.data ?? {}))) {
    problems.push(`Secret ${secretName} has no key ${key}`);
  }
}

export interface ResolvedEnv {
  env: Record<string, string>;
  problems: string[];
  /** Removes the dummy secret files. */
  cleanup: () => void;
}

/**
 * The environment the container would see: `$(VAR)` expanded as the kubelet does (earlier entries
 * only), secretKeyRefs and `_FILE` mounts replaced by strong dummy values (files written to a temp dir).
 */
export function resolveContainerEnv(objects: K8sObject[], deployment: K8sObject): ResolvedEnv {
  const pod = (deployment.spec as Loose).template.spec as { containers: Loose[]; volumes?: Volume[] };
  const container = pod.containers[0] as { env?: EnvVar[]; volumeMounts?: Mount[] };
  const problems: string[] = [];
  const env: Record<string, string> = {};
  const files = mkdtempSync(join(tmpdir(), 'corral-chart-env-'));
  for (const entry of container.env ?? []) {
    if (entry.name in env) problems.push(`${entry.name}: set twice`);
    if (entry.value !== undefined) {
      env[entry.name] = entry.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) =>
        name in env ? (env[name] as string) : whole,
      );
    } else if (entry.valueFrom?.secretKeyRef) {
      const { name, key } = entry.valueFrom.secretKeyRef;
      checkSecretKey(objects, name, key, problems);
      env[entry.name] = dummySecret(name, key, entry.name);
    } else {
      problems.push(`${entry.name}: unsupported valueFrom ${JSON.stringify(entry.valueFrom)}`);
    }
  }
  for (const [name, path] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) continue;
    const mount = (container.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
    const volume = pod.volumes?.find((v) => v.name === mount?.name);
    if (!mount || !volume?.secret) {
      problems.push(`${name}: ${path} is not in a mounted Secret`);
      continue;
    }
    const relative = posix.relative(mount.mountPath, path);
    const items = volume.secret.items;
    const key = items ? items.find((item) => item.path === relative)?.key : relative;
    if (key === undefined) {
      problems.push(`${name}: the Secret volume ${volume.name} does not project ${relative}`);
      continue;
    }
    checkSecretKey(objects, volume.secret.secretName, key, problems);
    const local = join(files, volume.name, relative);
    mkdirSync(dirname(local), { recursive: true });
    writeFileSync(local, `${dummySecret(volume.secret.secretName, key, name)}\n`);
    env[name] = local;
  }
  return { env, problems, cleanup: () => rmSync(files, { recursive: true, force: true }) };
}

export interface LoadedService {
  config: Record<string, unknown> | undefined;
  /** Chart env the service would not start with, or would ignore (a renamed variable). */
  problems: string[];
}

/** Loads one service's config with NODE_ENV=production from its Deployment in `objects`. */
export function loadServiceConfig(objects: K8sObject[], service: ServiceName): LoadedService {
  const deployment = findOne(objects, 'Deployment', `corral-${service}`);
  const { env, problems, cleanup } = resolveContainerEnv(objects, deployment);
  const shape = { ...baseEnvShape, ...SERVICE_SHAPES[service] };
  for (const name of Object.keys(env)) {
    const read = name in shape || (name.endsWith('_FILE') && name.slice(0, -'_FILE'.length) in shape);
    if (!read && !(name in CHART_HELPERS)) problems.push(`${name}: ${service} reads no such variable`);
  }
  if (env.NODE_ENV !== 'production') problems.push(`NODE_ENV: expected production, got ${env.NODE_ENV}`);
  let config: Record<string, unknown> | undefined;
  try {
    config = loadConfig(service, shape, { ...env, NODE_ENV: 'production' }) as Record<string, unknown>;
    if (service === 'auth') checkAuthConfig(config as AuthConfig);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  } finally {
    cleanup();
  }
  for (const name of REQUIRED_IN_PRODUCTION[service] ?? []) {
    if (config && config[name] === undefined) problems.push(`${name}: required in production, not set`);
  }
  return { config, problems };
}
