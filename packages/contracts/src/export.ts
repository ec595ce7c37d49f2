import { z } from 'zod';
import { MAX_ATTACHMENTS_PER_MESSAGE } from './attachments.js';
import { exportedFeedback } from './feedback.js';
import { exportedFolder } from './folders.js';

/**
 * The conversation export/import file: what `GET /api/conversations/export` and
 * `GET /api/conversations/:id/export` write and `POST /api/conversations/import` reads.
 */
export const EXPORT_FORMAT = 'corral.conversations';
export const EXPORT_VERSION = 1;

/** Bounds on one import, on top of IMPORT_BODY_LIMIT bytes. */
export const IMPORT_MAX_CONVERSATIONS = 10_000;
export const IMPORT_MAX_MESSAGES_PER_CONVERSATION = 5_000;
export const IMPORT_MAX_MESSAGE_CHARS = 1_000_000;

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });

export const exportedMessage = z.object({
  id: uuid,
  parentId: uuid.nullable(),
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(IMPORT_MAX_MESSAGE_CHARS),
  /** A reply's reasoning (absent in files written before it was saved). */
  reasoning: z.string().max(IMPORT_MAX_MESSAGE_CHARS).nullable().optional(),
  model: z.string().max(200).nullable(),
  status: z.enum(['streaming', 'complete', 'stopped', 'error', 'interrupted']),
  error: z.string().max(10_000).nullable(),
  promptTokens: z.number().int().min(0).nullable(),
  completionTokens: z.number().int().min(0).nullable(),
  durationMs: z.number().int().min(0).nullable(),
  /** Attached images, bytes in base64 (checked again on import: type, size, quota). */
  attachments: z
    .array(
      z.object({
        id: uuid,
        name: z.string().max(255),
        contentType: z.string().max(100),
        data: z.base64(),
      }),
    )
    .max(MAX_ATTACHMENTS_PER_MESSAGE)
    .optional(),
  /** The owner's thumbs up/down on a reply (assistant messages only). */
  feedback: exportedFeedback.optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ExportedMessage = z.infer<typeof exportedMessage>;

export const exportedConversation = z
  .object({
    id: uuid,
    title: z.string().max(200),
    titleSource: z.enum(['none', 'auto', 'generated', 'user']).default('user'),
    model: z.string().min(1).max(200),
    systemPrompt: z.string().max(20_000).nullable(),
    tags: z.array(z.string().max(50)).max(20),
    pinned: z.boolean(),
    archived: z.boolean(),
    currentMessageId: uuid.nullable(),
    /** One of the file's `folders` (or null / absent: none). */
    folderId: uuid.nullable().optional(),
    createdAt: timestamp,
    updatedAt: timestamp,
    messages: z.array(exportedMessage).max(IMPORT_MAX_MESSAGES_PER_CONVERSATION),
  })
  .superRefine((conversation, issue) => {
    const ids = new Set<string>();
    for (const message of conversation.messages) {
      if (ids.has(message.id)) {
        issue.addIssue({
          code: 'custom',
          message: `message ${message.id} appears twice`,
          path: ['messages'],
        });
      }
      ids.add(message.id);
    }
    conversation.messages.forEach((message, index) => {
      if (message.parentId !== null && !ids.has(message.parentId)) {
        issue.addIssue({
          code: 'custom',
          message: 'parentId names no message of this conversation',
          path: ['messages', index, 'parentId'],
        });
      }
    });
    if (conversation.currentMessageId !== null && !ids.has(conversation.currentMessageId)) {
      issue.addIssue({
        code: 'custom',
        message: 'names no message of this conversation',
        path: ['currentMessageId'],
      });
    }
  });
export type ExportedConversation = z.infer<typeof exportedConversation>;

/** Personal prompts and assistants travel with a full export (shared ones stay with the deployment). */
export const IMPORT_MAX_PROMPTS = 10_000;
export const IMPORT_MAX_ASSISTANTS = 1_000;

export const exportedPrompt = z.object({
  id: uuid,
  title: z.string().trim().min(1).max(200),
  text: z.string().min(1).max(1_000_000),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ExportedPrompt = z.infer<typeof exportedPrompt>;

export const exportedAssistant = z.object({
  id: uuid,
  name: z.string().trim().min(1).max(100),
  baseModel: z.string().trim().min(1).max(200),
  systemPrompt: z.string().max(1_000_000),
  temperature: z.number().min(0).max(2).nullable(),
  topP: z.number().min(0).max(1).nullable(),
  maxTokens: z.number().int().min(1).max(1_000_000).nullable(),
  seed: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ExportedAssistant = z.infer<typeof exportedAssistant>;

/** Bound on the folders of one import (MAX_FOLDERS_PER_USER applies to the account after it). */
export const IMPORT_MAX_FOLDERS = 1_000;

export const exportFile = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    version: z.literal(EXPORT_VERSION),
    exportedAt: timestamp.optional(),
    /** The owner's folders (files written before folders existed have none). */
    folders: z.array(exportedFolder).max(IMPORT_MAX_FOLDERS).optional(),
    /** Absent in files from before the prompt library, and in a one-conversation export. */
    prompts: z.array(exportedPrompt).max(IMPORT_MAX_PROMPTS).optional(),
    assistants: z.array(exportedAssistant).max(IMPORT_MAX_ASSISTANTS).optional(),
    conversations: z.array(exportedConversation).max(IMPORT_MAX_CONVERSATIONS),
  })
  .superRefine((file, issue) => {
    const folders = new Set((file.folders ?? []).map((f) => f.id));
    file.conversations.forEach((conversation, index) => {
      if (conversation.folderId && !folders.has(conversation.folderId)) {
        issue.addIssue({
          code: 'custom',
          message: 'names no folder of this file',
          path: ['conversations', index, 'folderId'],
        });
      }
    });
  });
export type ExportFile = z.infer<typeof exportFile>;

/** `POST /api/conversations/import` answer. */
export const importResult = z.object({
  /** Conversations created (with their own ids, or new ones — see `renamed`). */
  imported: z.number().int(),
  /** Already in this account under the same id: left as they are. */
  skipped: z.number().int(),
  /** Ids that belong to someone else (or collide): imported under new ids. */
  renamed: z.array(z.object({ from: z.string(), to: z.string() })),
  messages: z.number().int(),
  /** Folders created (one already in this account under the same id is reused). */
  folders: z.number().int(),
  /** Personal prompts and assistants created (ones already in this account are left as they are). */
  prompts: z.number().int(),
  assistants: z.number().int(),
});
export type ImportResult = z.infer<typeof importResult>;
