import type { Conversation, Message } from './db.js';

/**
 * Raw SQL on the hot paths (a chat turn, a stored reply) answers the same objects Prisma does:
 * these column lists and mappers are the one place the two spellings meet.
 */
export const CONVERSATION_COLUMNS = `id, user_id, title, title_source, model, system_prompt, tags, pinned,
  archived, current_message_id, folder_id, created_at, updated_at`;

export interface ConversationRow {
  id: string;
  user_id: string;
  title: string;
  title_source: Conversation['titleSource'];
  model: string;
  system_prompt: string | null;
  tags: string[];
  pinned: boolean;
  archived: boolean;
  current_message_id: string | null;
  folder_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export const conversationFromRow = (row: ConversationRow): Conversation => ({
  id: row.id,
  userId: row.user_id,
  title: row.title,
  titleSource: row.title_source,
  model: row.model,
  systemPrompt: row.system_prompt,
  tags: row.tags,
  pinned: row.pinned,
  archived: row.archived,
  currentMessageId: row.current_message_id,
  folderId: row.folder_id,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * A message as a chat turn reads its branch: without its reasoning, which is never sent back to the
 * model (so a long thinking conversation does not read every earlier reasoning on each turn).
 */
export type BranchMessage = Omit<Message, 'reasoning'>;

export const MESSAGE_COLUMNS = `id, conversation_id, parent_id, role, content, model, status, error,
  prompt_tokens, completion_tokens, duration_ms, created_at, updated_at`;

export interface MessageRow {
  id: string;
  conversation_id: string;
  parent_id: string | null;
  role: Message['role'];
  content: string;
  model: string | null;
  status: Message['status'];
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  duration_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

export const messageFromRow = (row: MessageRow): BranchMessage => ({
  id: row.id,
  conversationId: row.conversation_id,
  parentId: row.parent_id,
  role: row.role,
  content: row.content,
  model: row.model,
  status: row.status,
  error: row.error,
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  durationMs: row.duration_ms,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
