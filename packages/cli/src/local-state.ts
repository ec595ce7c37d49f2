import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { CorralPaths } from './paths.js';
import { isProcessAlive } from './process-util.js';

export const ADMIN_EMAIL = 'admin@corral.local';

/** Secrets generated on the first run and reused: the services' own secrets and the database password. */
const secretsSchema = z.object({
  postgresPassword: z.string().min(16),
  signingKeySecret: z.string().min(32),
  internalServiceToken: z.string().min(32),
  /** chat-api → inference-gateway bearer token (GATEWAY_SERVICE_TOKEN); the e2e suite reads it too. */
  gatewayServiceToken: z.string().min(32),
});
export type LocalSecrets = z.infer<typeof secretsSchema>;
/** A file from before a secret existed: the missing ones are generated and added, the others kept. */
const storedSecretsSchema = secretsSchema.partial({ gatewayServiceToken: true });
export type StoredSecrets = z.infer<typeof storedSecretsSchema>;

const token = (bytes = 32): string => randomBytes(bytes).toString('base64url');

function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function loadOrCreateSecrets(paths: CorralPaths): LocalSecrets {
  const stored = existsSync(paths.secrets)
    ? storedSecretsSchema.parse(JSON.parse(readFileSync(paths.secrets, 'utf8')))
    : undefined;
  if (stored?.gatewayServiceToken !== undefined)
    return { ...stored, gatewayServiceToken: stored.gatewayServiceToken };
  const secrets: LocalSecrets = {
    postgresPassword: token(24),
    signingKeySecret: token(),
    internalServiceToken: token(),
    ...stored,
    gatewayServiceToken: token(),
  };
  writePrivate(paths.secrets, `${JSON.stringify(secrets, null, 2)}\n`);
  return secrets;
}

/** The local run's secrets as stored (a run started by an older corral may lack the newer ones). */
export function readSecrets(paths: CorralPaths): StoredSecrets | undefined {
  if (!existsSync(paths.secrets)) return undefined;
  return storedSecretsSchema.parse(JSON.parse(readFileSync(paths.secrets, 'utf8')));
}

/** The bootstrap admin's password: generated once, kept 0600; `created` says whether it is new. */
export function loadOrCreateAdminPassword(paths: CorralPaths): { password: string; created: boolean } {
  if (existsSync(paths.adminPassword)) {
    return { password: readFileSync(paths.adminPassword, 'utf8').trim(), created: false };
  }
  const password = token(18);
  writePrivate(paths.adminPassword, `${password}\n`);
  return { password, created: true };
}

export function readAdminPassword(paths: CorralPaths): string | undefined {
  return existsSync(paths.adminPassword) ? readFileSync(paths.adminPassword, 'utf8').trim() : undefined;
}

/** What a running `corral start` tells the operator commands (status, backup, …). */
const runStateSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  databaseUrl: z.string(),
  postgresPort: z.number().int(),
  inference: z.object({ kind: z.string(), label: z.string(), urls: z.array(z.string()) }),
  services: z.record(z.string(), z.string()),
  /** Child process ids (services and postgres), for operators and tests. */
  pids: z.record(z.string(), z.number().int()),
});
export type RunState = z.infer<typeof runStateSchema>;

export function writeRunState(paths: CorralPaths, state: RunState): void {
  writePrivate(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

/** The state of the local run, if one is running now. */
export function readRunState(paths: CorralPaths): RunState | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    const state = runStateSchema.parse(JSON.parse(readFileSync(paths.state, 'utf8')));
    return isProcessAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function clearRunState(paths: CorralPaths): void {
  rmSync(paths.state, { force: true });
}
