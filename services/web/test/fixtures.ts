import type { Conversation, Message, User } from '../src/api/index.js';

/** An active user as auth's admin API lists one; only the id and email vary between tests. */
export const testUser = (id: string, email: string): User => ({
  id,
  email,
  name: null,
  role: 'user',
  status: 'active',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  lastLoginAt: null,
  mustChangePassword: false,
});

/** A conversation as chat-api answers one; tests override what they look at. */
export const testConversation = (id: string, fields: Partial<Conversation> = {}): Conversation => ({
  id,
  title: 'Hello',
  titleSource: 'auto',
  model: 'llama3.2',
  systemPrompt: null,
  tags: [],
  pinned: false,
  archived: false,
  currentMessageId: null,
  folderId: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...fields,
});

/** A message of conversation `c1`; `at` orders siblings (seconds after a fixed minute). */
export const testMessage = (
  id: string,
  parentId: string | null,
  role: Message['role'],
  at: number,
  fields: Partial<Message> = {},
): Message => ({
  id,
  conversationId: 'c1',
  parentId,
  role,
  content: `${role} ${id}`,
  reasoning: null,
  model: role === 'assistant' ? 'llama3.2' : null,
  status: 'complete',
  error: null,
  promptTokens: null,
  completionTokens: null,
  durationMs: null,
  attachments: [],
  createdAt: `2025-01-01T00:00:${String(at).padStart(2, '0')}.000Z`,
  updatedAt: `2025-01-01T00:00:${String(at).padStart(2, '0')}.000Z`,
  ...fields,
});
