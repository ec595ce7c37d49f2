// Shapes of auth's and chat-api's answers, as the web app reads them.

export type Role = 'admin' | 'user';
export type UserStatus = 'active' | 'pending' | 'disabled';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  status: UserStatus;
  createdAt: string;
  updatedAt?: string;
  lastLoginAt: string | null;
  /** The bootstrap admin with a generated password: the app asks them to change it. */
  mustChangePassword?: boolean;
}

export interface Session {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshExpiresIn?: number;
  user: User;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  userId: string;
  models: string[] | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey {
  /** The plaintext key: shown once, never again. */
  key: string;
  apiKey: ApiKey;
}

export interface Conversation {
  id: string;
  title: string;
  /** none | auto (first line of the first message) | generated (title model) | user (renamed). */
  titleSource?: 'none' | 'auto' | 'generated' | 'user';
  model: string;
  systemPrompt: string | null;
  tags: string[];
  pinned: boolean;
  archived: boolean;
  currentMessageId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type MessageStatus = 'streaming' | 'complete' | 'stopped' | 'error' | 'interrupted';

export interface Message {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: 'system' | 'user' | 'assistant';
  content: string;
  model: string | null;
  status: MessageStatus;
  error: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  durationMs: number | null;
  createdAt: string;
  updatedAt?: string;
}

export interface MessageList {
  items: Message[];
  currentMessageId: string | null;
}

export interface ModelInfo {
  id: string;
}

export interface ReplySummary {
  messageId: string;
  status: MessageStatus;
  promptTokens: number | null;
  completionTokens: number | null;
  durationMs: number | null;
  tokensPerSecond: number | null;
}

/** What a reply stream yields, already parsed. */
export type ReplyEvent =
  | { type: 'start'; userMessage: Message | null; assistantMessage: Message }
  | { type: 'token'; text: string }
  | { type: 'done'; summary: ReplySummary }
  | { type: 'error'; summary: Partial<ReplySummary>; code: string; message: string };

export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** Only in admin usage (every user's rows); the email comes from auth's users list. */
  userId?: string;
}

export interface AuditEvent {
  id: string;
  action: string;
  outcome?: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
  /** When it happened (auth's `AuditEventView.at`). */
  at: string;
}

export interface Backend {
  id: string;
  url: string;
  state: string;
  version: string | null;
  models: string[];
  inFlight: number;
  maxParallel?: number;
  queued: number;
  busy: boolean;
  tokensPerSecond: number;
  errors: number;
  lastError: string | null;
}

export interface BackendPool {
  strategy?: string;
  queue?: { depth: number; max: number };
  backends: Backend[];
}

/** The limits an admin may set per user (chat-api's `userLimitsPatch`); `null` = the deployment default. */
export interface UserLimits {
  requestsPerMinute: number | null;
  dailyTokenBudget: number | null;
  maxConcurrentStreams: number | null;
  /** `null` = no per-user restriction. */
  allowedModels: string[] | null;
}

/** `GET/PUT /api/admin/users/:userId/limits`: what is stored, the defaults, and what applies. */
export interface UserLimitsView extends UserLimits {
  userId: string;
  updatedBy: string | null;
  updatedAt: string | null;
  defaults: Omit<UserLimits, 'allowedModels'> & { allowedModels: string[] | null };
  effective: Omit<UserLimits, 'allowedModels'> & { allowedModels: string[] | null };
}

/** `POST /api/conversations/import`. */
export interface ImportResult {
  imported: number;
  /** Already in this account under the same id: left as they were. */
  skipped: number;
  /** Ids that belonged to someone else: imported under new ids. */
  renamed: Array<{ from: string; to: string }>;
  messages: number;
}

/** The last line of the gateway's `POST /admin/models/pull` NDJSON stream. */
export interface PullSummary {
  status: 'success' | 'partial' | 'failed';
  model: string;
  backends: Array<{ backend: string; status: string; error?: string }>;
  skipped: string[];
  done: true;
}
