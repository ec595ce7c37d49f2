import { z } from 'zod';
import { attachment } from './attachments.js';
import { recordId, page, timestamp } from './common.js';

export const titleSource = z.enum(['none', 'auto', 'generated', 'user']);
export type TitleSource = z.infer<typeof titleSource>;

export const messageRole = z.enum(['system', 'user', 'assistant']);
export type MessageRole = z.infer<typeof messageRole>;

export const messageStatus = z.enum(['streaming', 'complete', 'stopped', 'error', 'interrupted']);
export type MessageStatus = z.infer<typeof messageStatus>;

/** chat-api's view of a conversation (no messages; those are read separately). */
export const conversation = z.object({
  id: recordId,
  title: z.string(),
  /** none | auto (first line of the first message) | generated (title model) | user (renamed). */
  titleSource,
  model: z.string(),
  systemPrompt: z.string().nullable(),
  tags: z.array(z.string()),
  pinned: z.boolean(),
  archived: z.boolean(),
  /** The leaf of the branch shown and continued. */
  currentMessageId: recordId.nullable(),
  /** The owner's folder it is filed in (`GET /api/folders`), or null. */
  folderId: recordId.nullable(),
  /**
   * `GET /api/conversations/:id` only: the name of the assistant the conversation was started with
   * (as it was then; its prompt and parameters apply to every reply), or null.
   */
  assistantName: z.string().nullable().optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Conversation = z.infer<typeof conversation>;

/** `POST/GET/PATCH /api/conversations[/:id]`. */
export const conversationResponse = z.object({ conversation });
export type ConversationResponse = z.infer<typeof conversationResponse>;

/**
 * `GET /api/conversations`: most recently active first; `replying` lists the conversations of the
 * page whose reply is still being written (the sidebar marks them).
 */
export const conversationPage = page(conversation).extend({ replying: z.array(recordId) });

/** chat-api's view of one message; siblings (same parent) are alternative branches. */
export const message = z.object({
  id: recordId,
  conversationId: recordId,
  parentId: recordId.nullable(),
  role: messageRole,
  content: z.string(),
  /**
   * A thinking model's reasoning for this reply (shown apart from the answer); null: none. Absent
   * from a chat-api older than the field (a rolling upgrade's old pods): none, not a broken stream.
   */
  reasoning: z.string().nullable().default(null),
  model: z.string().nullable(),
  status: messageStatus,
  error: z.string().nullable(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
  /** Images the user attached (user messages only). */
  attachments: z.array(attachment),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Message = z.infer<typeof message>;

/** `GET /api/conversations/:id/messages` (`?branch=current` the shown branch, `all` every message). */
export const messageList = z.object({ items: z.array(message), currentMessageId: recordId.nullable() });
export type MessageList = z.infer<typeof messageList>;

/** `POST /api/conversations/:id/stop`: the replies that were streaming and are being stopped. */
export const stopResult = z.object({ stopping: z.array(recordId) });
export type StopResult = z.infer<typeof stopResult>;
