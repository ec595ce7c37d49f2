import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BaseConfig,
  envBoolean,
  envByteSize,
  envInt,
  envList,
  envPort,
  envUrl,
  optionalSecret,
  secret,
} from '@corral/service-kit';
import { z } from 'zod';

/** Everything chat-api reads from the environment; parsed once by runService (or loadConfig in tests). */
export const chatEnvShape = {
  PORT: envPort(5002),
  DATABASE_URL: envUrl('postgres')
    .default('postgresql://postgres@127.0.0.1:5432/corral?schema=chat')
    .describe('PostgreSQL URL; ?schema= picks the schema (chat).'),
  DATABASE_POOL_MAX: envInt(10, { min: 1, max: 1000 }).describe(
    "PostgreSQL connections per process. Keep replicas × this under the server's max_connections.",
  ),
  DATABASE_POOL_TIMEOUT_MS: envInt(2000, { min: 10, max: 60_000 }).describe(
    'How long a request waits for a free connection; past it the answer is 503 service_unavailable with Retry-After.',
  ),
  AUTO_MIGRATE: envBoolean(false).describe('Apply prisma/migrations at start-up.'),
  REDIS_URL: envUrl('redis')
    .optional()
    .describe(
      'Redis for rate limits, stream slots and stop across replicas; unset = in-process (one replica).',
    ),
  REDIS_KEY_PREFIX: z.string().min(1).default('corral:chat:'),
  AUTH_URL: envUrl('http')
    .default('http://127.0.0.1:5001')
    .describe('auth service: JWKS and API key introspection.'),
  REVOCATION_CHANNEL: z
    .string()
    .min(1)
    .default('corral:revocations')
    .describe("Redis channel auth publishes revocation stamps on (auth's REVOCATION_CHANNEL)."),
  JWT_ISSUER: z.string().min(1).default('corral-auth'),
  JWT_AUDIENCE: z.string().min(1).default('corral'),
  INTERNAL_SERVICE_TOKEN: secret({
    devDefault: 'corral-dev-internal-service-token-not-for-production',
    description: 'Bearer token presented to auth when introspecting API keys.',
  }),
  API_KEY_CACHE_MS: envInt(5000, { max: 300_000 }).describe(
    'How long an introspected API key is trusted; a revoked key works at most this long.',
  ),
  GATEWAY_URL: envUrl('http')
    .default('http://127.0.0.1:5003')
    .describe('inference-gateway (any Ollama-compatible endpoint).'),
  GATEWAY_SERVICE_TOKEN: optionalSecret({
    minLength: 32,
    description:
      'Sent as `Authorization: Bearer` on every gateway call; set when the gateway requires a service token.',
  }),
  GATEWAY_TIMEOUT_MS: envInt(10_000, { min: 100 }).describe(
    'Time allowed for the gateway to answer a non-streaming call or to send response headers.',
  ),
  GATEWAY_IDLE_TIMEOUT_MS: envInt(120_000, { min: 1000 }).describe(
    'A stream with no new chunk for this long fails (model stuck).',
  ),
  DEFAULT_MODEL: z.string().min(1).default('llama3.2').describe('Model for conversations that name none.'),
  ALLOWED_MODELS: envList().describe('Models users may use; empty = every model the gateway has.'),
  RATE_LIMIT_PER_MINUTE: envInt(60).describe(
    "Model requests per user per minute (sending, regenerating or editing a message, and every /v1 call); an admin can set a user's own; 0 = unlimited.",
  ),
  READ_RATE_LIMIT_PER_MINUTE: envInt(600).describe(
    'Other requests per user per minute (opening chats, the list, settings), counted apart from model requests; 0 = unlimited.',
  ),
  MAX_CONCURRENT_STREAMS: envInt(3).describe('Generations one user may run at once; 0 = unlimited.'),
  MAX_MESSAGE_CHARS: envInt(400_000, { min: 1 }).describe(
    'Longest message a person writes, the same on every path: the UI, /v1 chat completions and import (400 naming both numbers). In the web chat it is the ceiling: a model whose context holds less (its /api/show context length × 4 characters) takes less.',
  ),
  DAILY_TOKEN_BUDGET: envInt(0).describe('Tokens (in + out) per user per UTC day; 0 = no budget.'),
  BUDGET_RESERVATION_TOKENS: envInt(8192, { min: 1 }).describe(
    'Under a daily budget, what a request without max_tokens reserves (and generates at most) until its usage is recorded.',
  ),
  STREAM_FLUSH_INTERVAL_MS: envInt(500, { min: 10, max: 60_000 }).describe(
    'A streaming reply is saved at least this often while it grows.',
  ),
  STREAM_FLUSH_TOKENS: envInt(64, { min: 1 }).describe('…or after this many new tokens, whichever is first.'),
  STREAM_STALE_SECONDS: envInt(60, { max: 86_400 }).describe(
    'A reply still marked streaming and untouched this long was left by a dead process: the sweep marks it interrupted.',
  ),
  REPLY_EVENTS_TTL_SECONDS: envInt(300, { min: 10, max: 86_400 }).describe(
    "A reply's events (kept in Redis Streams, or in this process without Redis) live this long after its last one, so a reload, another tab or another replica can resume it.",
  ),
  REPLY_EVENTS_MAX: envInt(50_000, { min: 100, max: 10_000_000 }).describe(
    'Most events kept per reply (MAXLEN); a client resuming from before the oldest kept one gets the saved text instead.',
  ),
  SWEEP_INTERVAL_SECONDS: envInt(30, { min: 1, max: 86_400 }),
  PENDING_SAVES_FILE: z
    .string()
    .min(1)
    .default(join(tmpdir(), 'corral-chat-api-pending-saves.jsonl'))
    .describe(
      'Finished replies not yet saved (PostgreSQL away) are written here at shutdown and saved by the next start; keep it where a restart finds it (the chart: the /tmp emptyDir).',
    ),
  PENDING_SAVES_MAX_BYTES: envByteSize('64mb').describe(
    'Memory for replies whose final save is being retried; beyond it they go to PENDING_SAVES_FILE at once.',
  ),
  TITLE_GENERATION: envBoolean(true).describe(
    'After the first exchange, ask a model for a short title (unless the user named the conversation).',
  ),
  TITLE_MODEL: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("Model that writes titles; unset = the conversation's model."),
  TITLE_TIMEOUT_MS: envInt(30_000, { min: 100, max: 600_000 }).describe(
    'A title not written in this time is given up (the first-line title stays).',
  ),
  DAILY_TOKEN_BUDGET_PER_KEY: envInt(0).describe(
    'Tokens (in + out) per API key per UTC day; 0 = no budget. An admin may override it per key.',
  ),
  USER_LIMITS_CACHE_MS: envInt(5000, { max: 300_000 }).describe(
    "How long a user's limits (admin-set, and their groups' from auth) are reused before being read again; a change applies within this, no restart.",
  ),
  IMPORT_BODY_LIMIT: envByteSize('20mb').describe(
    'Largest body POST /api/conversations/import accepts (larger: 413). BODY_LIMIT applies everywhere else.',
  ),
  ATTACHMENT_MAX_BYTES: envByteSize('10mb').describe(
    'Largest image a user attaches to a message in the web chat (larger: 413); also bounds an imported one.',
  ),
  MAX_FOLDERS_PER_USER: envInt(100, { min: 1, max: 10_000 }).describe(
    'Folders one user may have (the sidebar groups conversations in them); one more: 409 naming the limit. An import counts too.',
  ),
  FEEDBACK_COMMENT_MAX_CHARS: envInt(2000, { min: 1, max: 10_000 }).describe(
    'Longest comment on a thumbs up/down of a reply (characters); longer: 400 naming the limit. Imports are held to it too.',
  ),
  DEFAULT_STORAGE_QUOTA_MB: envInt(500, { max: 10_000_000 }).describe(
    "Attachment storage per user in MiB (an admin may set a user's own); full: 413 storage_quota_exceeded. 0 = no quota.",
  ),
  IMAGE_MAX_BYTES: envByteSize('10mb').describe(
    'Largest image in a /v1 request, data: URL or fetched (larger: 413); data: URLs must fit in BODY_LIMIT too.',
  ),
  IMAGE_FETCH_TIMEOUT_MS: envInt(10_000, { min: 100, max: 120_000 }).describe(
    'Time allowed to fetch an http(s) image URL given to /v1 (past it: 400).',
  ),
  IMAGE_FETCH_MAX_REDIRECTS: envInt(3, { max: 10 }).describe(
    'Redirects followed when fetching an image URL.',
  ),
  CHAT_RETENTION_DAYS: envInt(0, { max: 36_500 }).describe(
    'Conversations not updated for this many days are deleted by the retention job; 0 = keep forever.',
  ),
  RETENTION_INTERVAL_SECONDS: envInt(3600, { min: 10, max: 604_800 }).describe(
    'How often the retention job runs (when CHAT_RETENTION_DAYS > 0).',
  ),
  MAX_PROMPTS_PER_USER: envInt(200, { min: 1, max: 100_000 }).describe(
    "Saved prompts one user may keep in the prompt library (and an admin's shared ones, counted apart); more: 409.",
  ),
  MAX_PROMPT_CHARS: envInt(20_000, { min: 1, max: 1_000_000 }).describe(
    "Longest saved prompt's text (and an assistant's system prompt); longer: 400.",
  ),
  MAX_ASSISTANTS_PER_USER: envInt(50, { min: 1, max: 10_000 }).describe(
    'Assistants one user may keep (and the shared ones an admin made, counted apart); more: 409.',
  ),
  MAX_SHARES_PER_USER: envInt(100, { min: 1, max: 100_000 }).describe(
    'Shared-conversation links one user may keep at once (revoking one frees a place); more: 409.',
  ),
} as const;

export type ChatConfig = BaseConfig & z.infer<z.ZodObject<typeof chatEnvShape>>;
