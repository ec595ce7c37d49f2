// Signing in to auth as the bootstrap admin, for commands that use auth's API (create-api-key, doctor --smoke).
import { readFileSync } from 'node:fs';
import axios, { type AxiosInstance } from 'axios';
import { CliError, errorMessage } from './errors.js';
import { ADMIN_EMAIL, readAdminPassword } from './local-state.js';
import type { Targets } from './targets.js';

function problemDetail(data: unknown, status: number): string {
  const body = data as { detail?: string; title?: string } | undefined;
  return body?.detail ?? body?.title ?? `HTTP ${status}`;
}

export async function call<T>(
  http: AxiosInstance,
  method: 'get' | 'post' | 'delete',
  url: string,
  what: string,
  body?: unknown,
): Promise<T> {
  const response = await http.request({ method, url, data: body, validateStatus: () => true });
  if (response.status >= 400) {
    throw new CliError(`${what} failed: ${problemDetail(response.data, response.status)}`);
  }
  return response.data as T;
}

/**
 * An axios instance on auth as the admin: an admin's API key (CORRAL_ADMIN_API_KEY, else the file
 * CORRAL_ADMIN_API_KEY_FILE names; what works when PASSWORD_LOGIN_ENABLED=false), else the access
 * token of a password sign-in with CORRAL_ADMIN_*, else BOOTSTRAP_ADMIN_*, else the local run's.
 * create-api-key needs the key's `admin` scope; doctor --smoke its `keys` and `inference` scopes.
 */
export async function adminSession(
  targets: Targets,
  authUrl: string,
): Promise<{ http: AxiosInstance; email: string }> {
  const apiKey = fromEnvOrFile('CORRAL_ADMIN_API_KEY');
  if (apiKey) {
    const http = axios.create({ baseURL: authUrl, timeout: 15_000 });
    http.defaults.headers.common.Authorization = `Bearer ${apiKey}`;
    const me = await call<{ user: { email: string } }>(
      http,
      'get',
      '/api/auth/me',
      'checking the admin API key',
    );
    return { http, email: me.user.email };
  }
  const email = process.env.CORRAL_ADMIN_EMAIL ?? process.env.BOOTSTRAP_ADMIN_EMAIL ?? ADMIN_EMAIL;
  const password =
    fromEnvOrFile('CORRAL_ADMIN_PASSWORD') ??
    fromEnvOrFile('BOOTSTRAP_ADMIN_PASSWORD') ??
    readAdminPassword(targets.paths);
  if (!password)
    throw new CliError(
      'no admin password: set CORRAL_ADMIN_PASSWORD or CORRAL_ADMIN_PASSWORD_FILE (or run against the local run)',
    );
  const http = axios.create({ baseURL: authUrl, timeout: 15_000 });
  const login = await call<{ accessToken: string }>(
    http,
    'post',
    '/api/auth/login',
    `signing in as ${email}`,
    {
      email,
      password,
    },
  );
  http.defaults.headers.common.Authorization = `Bearer ${login.accessToken}`;
  return { http, email };
}

/**
 * NAME, else the contents of the file NAME_FILE names: the chart's helm test pod mounts the
 * bootstrap admin's Secret and sets BOOTSTRAP_ADMIN_PASSWORD_FILE (CORRAL_ADMIN_PASSWORD_FILE works
 * too), or, with password sign-in off, an admin key's Secret as CORRAL_ADMIN_API_KEY_FILE.
 */
function fromEnvOrFile(name: string, env = process.env): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new CliError(`${name}_FILE names ${file}, which cannot be read: ${errorMessage(error)}`);
  }
}
