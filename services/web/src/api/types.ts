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
  userId?: string;
  email?: string;
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
  createdAt: string;
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

export interface UserLimits {
  dailyTokenBudget: number | null;
  requestsPerMinute: number | null;
}
