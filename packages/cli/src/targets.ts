import { readFileSync } from 'node:fs';
import { CliError, errorMessage } from './errors.js';
import { readRunState, readSecrets, type RunState, type StoredSecrets } from './local-state.js';
import { corralPaths, type CorralPaths } from './paths.js';

/**
 * Where an operator command points: flags, then environment (how Helm jobs run it), then the
 * local run (`corral start` writes `.corral/state.json`).
 */
export interface Targets {
  paths: CorralPaths;
  local: RunState | undefined;
  secrets: StoredSecrets | undefined;
}

export function loadTargets(): Targets {
  const paths = corralPaths();
  const local = readRunState(paths);
  return { paths, local, secrets: local ? readSecrets(paths) : undefined };
}

const NOT_RUNNING = 'no local Corral is running (start it with `pnpm start`)';

/** The database URL without `?schema=` (pg_dump and friends reject it), and the schema it named. */
export function splitSchema(url: string): { url: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

/** The same database with `?schema=` set. */
export function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('schema', schema);
  return parsed.toString();
}

export function databaseUrl(targets: Targets, flag: string | undefined, env = process.env): string {
  const url = flag ?? env.DATABASE_URL ?? targets.local?.databaseUrl;
  if (!url) throw new CliError(`set DATABASE_URL or --database-url, or ${NOT_RUNNING}`);
  if (!/^postgres(ql)?:\/\//.test(url)) throw new CliError('DATABASE_URL must be a postgres:// URL', 2);
  return url;
}

export type ServiceKey = 'web' | 'auth' | 'chat-api' | 'inference-gateway';

const ENV_NAMES: Record<ServiceKey, string> = {
  web: 'WEB_URL',
  auth: 'AUTH_URL',
  'chat-api': 'CHAT_API_URL',
  'inference-gateway': 'GATEWAY_URL',
};

/** A service's base URL (no trailing slash), or undefined when nothing says where it is. */
export function serviceUrl(
  targets: Targets,
  service: ServiceKey,
  flag: string | undefined,
  env = process.env,
): string | undefined {
  const url = flag ?? env[ENV_NAMES[service]] ?? targets.local?.services[service];
  return url?.replace(/\/+$/, '');
}

export function requireServiceUrl(
  targets: Targets,
  service: ServiceKey,
  flag: string | undefined,
  env = process.env,
): string {
  const url = serviceUrl(targets, service, flag, env);
  if (!url) throw new CliError(`set ${ENV_NAMES[service]} (or its flag), or ${NOT_RUNNING}`);
  return url;
}

/**
 * The bearer token the gateway wants on /admin/*: GATEWAY_SERVICE_TOKEN, else the file
 * GATEWAY_SERVICE_TOKEN_FILE names (a mounted Secret), else the local run's; undefined when none.
 */
export function gatewayServiceToken(targets: Targets, env = process.env): string | undefined {
  if (env.GATEWAY_SERVICE_TOKEN) return env.GATEWAY_SERVICE_TOKEN;
  const file = env.GATEWAY_SERVICE_TOKEN_FILE;
  if (file) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(`GATEWAY_SERVICE_TOKEN_FILE: cannot read ${file} (${errorMessage(error)})`);
    }
  }
  return targets.local ? targets.secrets?.gatewayServiceToken : undefined;
}
