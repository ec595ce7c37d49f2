import {
  type BaseConfig,
  envByteSize,
  envInt,
  envList,
  envPort,
  envUrl,
  optionalSecret,
} from '@corral/service-kit';
import { z } from 'zod';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Everything the gateway reads from the environment; parsed once by runService. */
export const gatewayEnvShape = {
  PORT: envPort(5003),
  // Chat requests carry base64 images and embedding batches can be large; a proxy must not cut them at 1mb.
  BODY_LIMIT: envByteSize('32mb').describe('Largest request body accepted; larger ones get 413.'),
  OLLAMA_URLS: envList()
    .pipe(z.array(envUrl('http')))
    .describe('Static backends, comma-separated (OLLAMA_DISCOVERY=static).'),
  OLLAMA_DISCOVERY: z
    .enum(['static', 'kubernetes'])
    .default('static')
    .describe('Where backends come from: OLLAMA_URLS, or the EndpointSlices of a Kubernetes Service.'),
  OLLAMA_K8S_NAMESPACE: z
    .string()
    .min(1)
    .optional()
    .describe('Namespace of the Ollama Service; default: the pod’s own namespace.'),
  OLLAMA_K8S_SERVICE: z
    .string()
    .min(1)
    .default('ollama')
    .describe('Headless Service whose EndpointSlices list the Ollama pods.'),
  OLLAMA_K8S_PORT: envPort(11434).describe('Port Ollama listens on in each pod.'),
  OLLAMA_K8S_SCHEME: z.enum(['http', 'https']).default('http'),
  ROUTING_STRATEGY: z
    .enum(['round-robin', 'least-outstanding', 'cache-aware'])
    .default('cache-aware')
    .describe('How a backend is picked among the healthy ones holding the model (README: Routing).'),
  COLD_LOAD_WAIT_MS: envInt(2 * SECOND, { min: 0, max: 10 * MINUTE }).describe(
    'cache-aware: wait for a slot where the model is loaded before loading it on another backend.',
  ),
  AFFINITY_LOAD_FACTOR: z.coerce
    .number()
    .min(1)
    .max(10)
    .default(1.25)
    .describe(
      'cache-aware: a backend homing as many live conversations of a model as it has slots takes new ones while ≤ this × the mean.',
    ),
  AFFINITY_IDLE_MS: envInt(MINUTE, { min: SECOND, max: 24 * 60 * MINUTE }).describe(
    'cache-aware: a conversation without a turn this long no longer counts against its backend’s slots.',
  ),
  REDIS_URL: envUrl('redis')
    .optional()
    .describe('Backend slots shared by gateway replicas; unset = each replica counts its own.'),
  REDIS_KEY_PREFIX: z.string().min(1).default('corral:gateway:'),
  SLOT_LEASE_TTL_MS: envInt(30 * SECOND, { min: 100, max: 10 * MINUTE }).describe(
    'A shared slot not renewed this long frees itself (the slots of a replica that died).',
  ),
  AFFINITY_WAIT_MS: envInt(1000, { min: 0, max: MINUTE }).describe(
    'cache-aware: wait for a slot on a conversation’s previous backend before going elsewhere.',
  ),
  PROMPT_TOKENS_PER_SECOND: envInt(2000, { min: 1, max: 1_000_000 }).describe(
    'cache-aware: a backend’s prompt processing rate, to estimate how long a new prompt waits behind those sent before it.',
  ),
  LOAD_ESTIMATE_MS: envInt(5 * SECOND, { min: 0, max: 10 * MINUTE }).describe(
    'cache-aware: how long a model load takes, until the gateway has timed one of its background loads.',
  ),
  KEEP_ALIVE: z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, 'a positive duration like 5m, 30s or 300')
    .optional()
    .describe('keep_alive set on every generation (the pool’s value); unset: Ollama’s default.'),
  CLIENT_KEEP_ALIVE: z
    .enum(['deny', 'allow'])
    .default('deny')
    .describe('deny: clients cannot unload (0) or pin (negative) models on the shared servers.'),
  BACKEND_MAX_PARALLEL: envInt(4, { min: 1, max: 10_000 }).describe(
    'Requests one backend runs at once (match its OLLAMA_NUM_PARALLEL).',
  ),
  QUEUE_MAX: envInt(256, { min: 0, max: 1_000_000 }).describe(
    'Requests allowed to wait when every eligible backend is full; more get 503.',
  ),
  QUEUE_TIMEOUT_MS: envInt(30 * SECOND, { min: 1, max: 10 * MINUTE }).describe(
    'Longest wait in the queue before 503 + Retry-After.',
  ),
  HEALTH_INTERVAL_MS: envInt(5 * SECOND, { min: 10, max: 10 * MINUTE }).describe(
    'Active check period (GET /api/version on each backend).',
  ),
  HEALTH_TIMEOUT_MS: envInt(2 * SECOND, { min: 10, max: MINUTE }),
  EJECT_AFTER_FAILURES: envInt(3, { min: 1, max: 100 }).describe(
    'Failures (connection errors, 5xx, broken streams, failed checks) within EJECT_WINDOW_MS that eject a backend. A broken stream alone never ejects the last healthy backend.',
  ),
  EJECT_WINDOW_MS: envInt(30 * SECOND, { min: 10, max: 60 * MINUTE }).describe(
    'Failures older than this no longer count toward EJECT_AFTER_FAILURES.',
  ),
  EJECT_BASE_MS: envInt(5 * SECOND, { min: 10, max: 10 * MINUTE }).describe(
    'First ejection cooldown; doubles with each ejection in a row.',
  ),
  EJECT_MAX_MS: envInt(5 * MINUTE, { min: 10, max: 60 * MINUTE }).describe('Longest ejection cooldown.'),
  INVENTORY_POLL_MS: envInt(30 * SECOND, { min: 10, max: 60 * MINUTE }).describe(
    'How often each backend’s /api/tags and /api/ps are read.',
  ),
  UPSTREAM_CONNECT_TIMEOUT_MS: envInt(3 * SECOND, { min: 10, max: MINUTE }),
  FIRST_BYTE_TIMEOUT_MS: envInt(5 * MINUTE, { min: 10, max: 60 * MINUTE }).describe(
    'Wait for a backend’s response headers (model load included; non-streamed replies arrive whole).',
  ),
  STREAM_IDLE_TIMEOUT_MS: envInt(5 * MINUTE, { min: 10, max: 60 * MINUTE }).describe(
    'Longest silence between two chunks of a backend’s response.',
  ),
  TOKENS_RATE_WINDOW_MS: envInt(30 * SECOND, { min: 1000, max: 10 * MINUTE }).describe(
    'Sliding window behind corral_gateway_tokens_per_second.',
  ),
  // Optional here so development needs no setup; createApp refuses to start without it in production.
  GATEWAY_SERVICE_TOKEN: optionalSecret({
    minLength: 32,
    requiredInProduction: true,
    description:
      'Bearer token callers (chat-api) must send on every route but the probes; also opens /admin/*.',
  }),
  AUTH_URL: envUrl('http')
    .optional()
    .describe(
      'auth service; when set, /admin/* also accepts an admin access token (verified against its JWKS).',
    ),
  INTERNAL_SERVICE_TOKEN: optionalSecret({
    description:
      "auth's internal service token: with AUTH_URL, the gateway polls auth's revocation feed so a signed-out, disabled or demoted admin's token stops opening /admin/* within seconds.",
  }),
  JWT_ISSUER: z.string().min(1).default('corral-auth').describe('Expected iss of admin access tokens.'),
  JWT_AUDIENCE: z.string().min(1).default('corral').describe('Expected aud of admin access tokens.'),
} as const;

export type GatewayConfig = BaseConfig & z.infer<z.ZodObject<typeof gatewayEnvShape>>;
