import { randomBytes } from 'node:crypto';
import { databaseUrl } from './db.js';
import { jsonRequest } from './http.js';
import { type RunningProcess, type SimOptions, startService, startSim } from './processes.js';

/** Redis database the benches use, away from the services' and tests' default db 0. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
export const GATEWAY_SERVICE_TOKEN = 'bench-gateway-service-token-0123456789abcdef';
export const INTERNAL_SERVICE_TOKEN = 'bench-internal-service-token-0123456789abcdef';
export const MODEL = 'llama3.2';

export interface CorralStack {
  sim: RunningProcess;
  gateway: RunningProcess;
  auth: RunningProcess;
  chat: RunningProcess;
  web?: RunningProcess | undefined;
  /** Every process, in start order. */
  all: RunningProcess[];
}

export interface StackOptions {
  database: string;
  sim: SimOptions;
  chatEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  authEnv?: Record<string, string>;
  withWeb?: boolean;
}

/**
 * sim → gateway → auth → chat-api (→ web in local mode), each on a free port, sharing one scratch
 * database (schemas auth and chat, migrated at start-up) and a per-run Redis key prefix.
 */
export async function startCorralStack(options: StackOptions): Promise<CorralStack> {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const started: RunningProcess[] = [];
  try {
    const sim = await startSim(options.sim);
    started.push(sim);
    const gateway = await startService('inference-gateway', {
      OLLAMA_URLS: sim.url,
      GATEWAY_SERVICE_TOKEN,
      BACKEND_MAX_PARALLEL: '4096',
      QUEUE_MAX: '4096',
      ...options.gatewayEnv,
    });
    started.push(gateway);
    const auth = await startService('auth', {
      DATABASE_URL: databaseUrl(options.database, 'auth'),
      AUTO_MIGRATE: 'true',
      REDIS_URL,
      REDIS_KEY_PREFIX: `${prefix}auth:`,
      INTERNAL_SERVICE_TOKEN,
      DEFAULT_USER_STATUS: 'active',
      COOKIE_SECURE: 'false',
      // Every bench user registers from 127.0.0.1.
      REGISTRATION_MAX_PER_IP: '1000000',
      REGISTRATION_MAX_GLOBAL: '1000000',
      ...options.authEnv,
    });
    started.push(auth);
    const chat = await startService('chat-api', {
      DATABASE_URL: databaseUrl(options.database, 'chat'),
      AUTO_MIGRATE: 'true',
      REDIS_URL,
      REDIS_KEY_PREFIX: `${prefix}chat:`,
      AUTH_URL: auth.url,
      INTERNAL_SERVICE_TOKEN,
      GATEWAY_URL: gateway.url,
      GATEWAY_SERVICE_TOKEN,
      DEFAULT_MODEL: MODEL,
      TITLE_GENERATION: 'false',
      ...options.chatEnv,
    });
    started.push(chat);
    let web: RunningProcess | undefined;
    if (options.withWeb) {
      web = await startService('web', {
        AUTH_URL: auth.url,
        CHAT_API_URL: chat.url,
        GATEWAY_URL: gateway.url,
      });
      started.push(web);
    }
    return { sim, gateway, auth, chat, web, all: started };
  } catch (error) {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
    throw error;
  }
}

export interface BenchUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
}

/** Registers (auth runs with DEFAULT_USER_STATUS=active) or reuses an account, and signs in. */
export async function signIn(
  authUrl: string,
  email: string,
  password = 'bench-password-0123',
): Promise<BenchUser> {
  await jsonRequest('POST', `${authUrl}/api/auth/register`, {
    body: { email, password, name: 'bench' },
    // 202 whether the account is new or already there (auth does not say which).
    expect: [202],
  });
  const { body } = await jsonRequest<{ accessToken: string; user: { id: string } }>(
    'POST',
    `${authUrl}/api/auth/login`,
    { body: { email, password } },
  );
  return { id: body.user.id, email, password, accessToken: body.accessToken };
}

/** An API key made through auth's own API (shown only in this answer). */
export async function createApiKey(authUrl: string, accessToken: string, name = 'bench'): Promise<string> {
  const { body } = await jsonRequest<{ key: string }>('POST', `${authUrl}/api/auth/api-keys`, {
    token: accessToken,
    body: { name },
  });
  return body.key;
}
