import { randomBytes } from 'node:crypto';
import {
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  authTestEnv,
  dropSchema,
  schemaEnv,
  sql,
  uniqueSchema,
} from '@corral/test-support';
import { type RunningProcess, spawnService, spawnSim } from './processes.js';

export const INTERNAL_SERVICE_TOKEN = 'fuzz-internal-service-token-0123456789abcdef';
export const GATEWAY_SERVICE_TOKEN = 'fuzz-gateway-service-token-0123456789abcdef';
export const ADMIN = { email: 'admin@fuzz.test', password: 'fuzz-admin-password-123' };
export const JWT_ISSUER = 'corral-auth';
export const JWT_AUDIENCE = 'corral';

export interface StackOptions {
  /** Base PostgreSQL URL (no schema); the machine's shared one by default. */
  databaseUrl?: string;
  redisUrl?: string;
  /** ollama-sim CLI flags per backend (one sim each); default one sim. */
  sims?: string[][];
  /** Extra variables per service (and `all` for every one). */
  env?: Partial<Record<'all' | 'auth' | 'chat' | 'gateway', Record<string, string>>>;
  /** Leave out services a test does not need. */
  without?: Array<'gateway' | 'chat'>;
}

/** auth + inference-gateway + chat-api (+ sims) as processes, each in its own schema and Redis prefix. */
export interface Stack {
  auth: RunningProcess;
  gateway?: RunningProcess;
  chat?: RunningProcess;
  sims: RunningProcess[];
  authSchema: string;
  chatSchema: string;
  authDatabaseUrl: string;
  chatDatabaseUrl: string;
  /** Respawns chat-api with the same configuration (a new port unless given). */
  restartChat(extraEnv?: Record<string, string>, port?: number): Promise<RunningProcess>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const base = options.databaseUrl ?? TEST_DATABASE_URL;
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const id = randomBytes(3).toString('hex');
  const authSchema = uniqueSchema(`fuzz_auth_${id}`);
  const chatSchema = uniqueSchema(`fuzz_chat_${id}`);
  /** Each service's schema on `base`, its own Redis key prefix, migrations at start-up. */
  const storage = (schema: string) =>
    schemaEnv(schema, { databaseUrl: base, redisUrl, keyPrefix: `corral:fuzz:${schema}:` });
  const authDatabaseUrl = `${base}?schema=${authSchema}`;
  const chatDatabaseUrl = `${base}?schema=${chatSchema}`;
  const all = options.env?.all ?? {};
  const started: RunningProcess[] = [];
  const sims: RunningProcess[] = [];
  const chatEnv = (gatewayUrl: string): Record<string, string> => ({
    ...all,
    ...storage(chatSchema),
    AUTH_URL: auth.url,
    INTERNAL_SERVICE_TOKEN,
    GATEWAY_URL: gatewayUrl,
    GATEWAY_SERVICE_TOKEN,
    TITLE_GENERATION: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
    READ_RATE_LIMIT_PER_MINUTE: '0',
    MAX_CONCURRENT_STREAMS: '0',
    ...options.env?.chat,
  });
  let auth!: RunningProcess;
  let gatewayUrl = '';
  const close = async () => {
    await Promise.all([...started].reverse().map((child) => child.stop(5000)));
    await Promise.all(sims.map((sim) => sim.kill()));
    await dropSchema(authSchema, base).catch(() => undefined);
    await dropSchema(chatSchema, base).catch(() => undefined);
  };
  try {
    // Test files migrating in parallel would otherwise race on CREATE EXTENSION.
    await sql('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public', [], base);
    const simFlags = options.sims ?? [['--tokens-per-second', '0', '--ttft-ms', '0']];
    const needGateway = !options.without?.includes('gateway');
    const [authProcess, ...simProcesses] = await Promise.all([
      spawnService('auth', {
        ...all,
        ...storage(authSchema),
        ...authTestEnv({ serviceToken: INTERNAL_SERVICE_TOKEN, admin: ADMIN }),
        DEFAULT_USER_STATUS: 'active',
        LOGIN_MAX_FAILURES_PER_IP: '100000',
        ...options.env?.auth,
      }),
      ...(needGateway ? simFlags.map((flags) => spawnSim(flags)) : []),
    ]);
    auth = authProcess;
    started.push(auth);
    sims.push(...simProcesses);
    let gateway: RunningProcess | undefined;
    if (needGateway) {
      gateway = await spawnService('inference-gateway', {
        ...all,
        OLLAMA_URLS: sims.map((sim) => sim.url).join(','),
        GATEWAY_SERVICE_TOKEN,
        AUTH_URL: auth.url,
        // As the chart and `corral start` run it: polls auth's revocation feed.
        INTERNAL_SERVICE_TOKEN,
        HEALTH_INTERVAL_MS: '500',
        HEALTH_TIMEOUT_MS: '1000',
        ...options.env?.gateway,
      });
      started.push(gateway);
      gatewayUrl = gateway.url;
    } else {
      gatewayUrl = 'http://127.0.0.1:9';
    }
    let chat: RunningProcess | undefined;
    if (!options.without?.includes('chat')) {
      chat = await spawnService('chat-api', chatEnv(gatewayUrl));
      started.push(chat);
    }
    const stack: Stack = {
      auth,
      ...(gateway ? { gateway } : {}),
      ...(chat ? { chat } : {}),
      sims,
      authSchema,
      chatSchema,
      authDatabaseUrl,
      chatDatabaseUrl,
      restartChat: async (extraEnv = {}, port = 0) => {
        const next = await spawnService('chat-api', { ...chatEnv(gatewayUrl), ...extraEnv }, { port });
        started.push(next);
        stack.chat = next;
        return next;
      },
      close,
    };
    return stack;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
