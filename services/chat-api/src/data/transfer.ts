import { withStreamingText } from './chunks.js';
import { randomUUID } from 'node:crypto';
import type {
  ExportedConversation,
  ExportedFeedback,
  ExportedMessage,
  ImportResult,
} from '@corral/contracts';
import type { PoolClient } from 'pg';
import { attachmentFilesOf } from './attachments.js';
import { feedbackOfMessages } from './feedback.js';
import { toConversationView, toMessageView } from './conversations.js';
import { type Conversation, type Database, inTransaction, type Message } from './db.js';

type ConversationsImported = Omit<ImportResult, 'prompts' | 'assistants'>;

/** Conversations per read: bounds memory (their messages come along) while keeping queries few. */
const EXPORT_BATCH = 100;

type ExportedFiles = NonNullable<ExportedMessage['attachments']>;

/**
 * The export format is the API's views: a message without its (implied) conversation id, images
 * with their bytes, a reply with its thumbs up/down.
 */
const toExportedMessage = (
  m: Message,
  files: ExportedFiles | undefined,
  feedback: ExportedFeedback | undefined,
): ExportedMessage => {
  const { conversationId: _implied, attachments: _views, ...message } = toMessageView(m);
  return { ...message, ...(files ? { attachments: files } : {}), ...(feedback ? { feedback } : {}) };
};

const toExported = (
  c: Conversation,
  messages: Message[],
  files: Map<string, ExportedFiles>,
  feedback: Map<string, ExportedFeedback>,
): ExportedConversation => ({
  ...toConversationView(c),
  messages: messages.map((m) => toExportedMessage(m, files.get(m.id), feedback.get(m.id))),
});

/**
 * The user's conversations with every message (all branches), a batch at a time in id order, so
 * 10,000 conversations never sit in memory together and ones changed meanwhile are not skipped.
 */
export async function* exportConversations(
  db: Database,
  userId: string,
  only?: string,
): AsyncGenerator<ExportedConversation> {
  let after: string | undefined;
  for (;;) {
    const conversations = await db.prisma.conversation.findMany({
      where: { userId, ...(only ? { id: only } : after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: EXPORT_BATCH,
    });
    if (conversations.length === 0) return;
    const messages = await withStreamingText(
      db,
      await db.prisma.message.findMany({
        where: { conversationId: { in: conversations.map((c) => c.id) } },
        orderBy: [{ conversationId: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
      }),
    );
    const files = await attachmentFilesOf(
      db,
      messages.filter((m) => m.role === 'user').map((m) => m.id),
    );
    const ratings = await feedbackOfMessages(
      db,
      messages.filter((m) => m.role === 'assistant').map((m) => m.id),
    );
    const feedback = new Map(
      [...ratings].map(([id, f]) => [
        id,
        {
          rating: f.rating,
          comment: f.comment,
          createdAt: f.createdAt.toISOString(),
          updatedAt: f.updatedAt.toISOString(),
        },
      ]),
    );
    const byConversation = new Map<string, Message[]>();
    for (const message of messages) {
      const list = byConversation.get(message.conversationId) ?? [];
      list.push(message);
      byConversation.set(message.conversationId, list);
    }
    for (const conversation of conversations) {
      yield toExported(conversation, byConversation.get(conversation.id) ?? [], files, feedback);
    }
    if (only || conversations.length < EXPORT_BATCH) return;
    after = conversations.at(-1)!.id;
  }
}

type Outcome =
  { kind: 'imported'; id: string; messages: number } | { kind: 'skipped' } | { kind: 'collision' };

/**
 * Imports conversations into `userId`'s account, idempotently by conversation id: one already in
 * this account is skipped (never overwritten); an id held by another user (or message ids that
 * collide) gets fresh ids, so nobody else's data is touched or revealed. One transaction each.
 */
export async function importConversations(
  db: Database,
  userId: string,
  conversations: ExportedConversation[],
  /** The file's folder ids mapped to this account's (importFolders). */
  folderIds: Map<string, string> = new Map(),
): Promise<ConversationsImported> {
  const result: ConversationsImported = { imported: 0, skipped: 0, renamed: [], messages: 0, folders: 0 };
  for (const exported of conversations) {
    const conversation = { ...exported, folderId: folderIds.get(exported.folderId ?? '') ?? null };
    let outcome = await insertConversation(db, userId, conversation);
    if (outcome.kind === 'collision') {
      const renamed = withFreshIds(conversation);
      outcome = await insertConversation(db, userId, renamed);
      if (outcome.kind === 'imported') result.renamed.push({ from: conversation.id, to: renamed.id });
    }
    if (outcome.kind === 'imported') {
      result.imported += 1;
      result.messages += outcome.messages;
    } else {
      result.skipped += 1;
    }
  }
  return result;
}

/** The same conversation under new random ids, its branches and current message kept. */
function withFreshIds(conversation: ExportedConversation): ExportedConversation {
  const ids = new Map(conversation.messages.map((m) => [m.id, randomUUID()]));
  const mapped = (id: string | null) => (id === null ? null : (ids.get(id) ?? null));
  return {
    ...conversation,
    id: randomUUID(),
    currentMessageId: mapped(conversation.currentMessageId),
    messages: conversation.messages.map((m) => ({ ...m, id: ids.get(m.id)!, parentId: mapped(m.parentId) })),
  };
}

function insertConversation(db: Database, userId: string, c: ExportedConversation): Promise<Outcome> {
  return inTransaction(
    db,
    (client) => insertInTransaction(client, userId, c),
    (outcome) => outcome.kind === 'imported',
  );
}

async function insertInTransaction(
  client: PoolClient,
  userId: string,
  c: ExportedConversation,
): Promise<Outcome> {
  const inserted = await client.query(
    `INSERT INTO conversations (id, user_id, title, title_source, model, system_prompt, tags, pinned,
                                archived, current_message_id, created_at, updated_at, folder_id)
     VALUES ($1, $2, $3, $4::"TitleSource", $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (id) DO NOTHING`,
    [
      c.id,
      userId,
      c.title,
      c.titleSource,
      c.model,
      c.systemPrompt,
      c.tags,
      c.pinned,
      c.archived,
      c.currentMessageId,
      c.createdAt,
      c.updatedAt,
      c.folderId ?? null,
    ],
  );
  if (inserted.rowCount === 0) {
    const owner = await client.query<{ user_id: string }>('SELECT user_id FROM conversations WHERE id = $1', [
      c.id,
    ]);
    return owner.rows[0]?.user_id === userId ? { kind: 'skipped' } : { kind: 'collision' };
  }
  if (c.messages.length === 0) return { kind: 'imported', id: c.id, messages: 0 };
  const column = <T>(pick: (m: ExportedMessage) => T) => c.messages.map(pick);
  const messages = await client.query(
    `INSERT INTO messages (id, conversation_id, parent_id, role, content, model, status, error,
                           prompt_tokens, completion_tokens, duration_ms, created_at, updated_at, reasoning)
     SELECT u.id, $1, u.parent_id, u.role, u.content, u.model, u.status, u.error,
            u.prompt_tokens, u.completion_tokens, u.duration_ms, u.created_at, u.updated_at, u.reasoning
       FROM unnest($2::uuid[], $3::uuid[], $4::"MessageRole"[], $5::text[], $6::text[],
                   $7::"MessageStatus"[], $8::text[], $9::int[], $10::int[], $11::int[],
                   $12::timestamptz[], $13::timestamptz[], $14::text[])
            AS u(id, parent_id, role, content, model, status, error, prompt_tokens,
                 completion_tokens, duration_ms, created_at, updated_at, reasoning)
     ON CONFLICT (id) DO NOTHING`,
    [
      c.id,
      column((m) => m.id),
      column((m) => m.parentId),
      column((m) => m.role),
      column((m) => m.content),
      column((m) => m.model),
      // Nothing generates an imported reply: one exported mid-stream arrives interrupted.
      column((m) => (m.status === 'streaming' ? 'interrupted' : m.status)),
      column((m) => m.error),
      column((m) => m.promptTokens),
      column((m) => m.completionTokens),
      column((m) => m.durationMs),
      column((m) => m.createdAt),
      column((m) => m.updatedAt),
      column((m) => m.reasoning ?? null),
    ],
  );
  if (messages.rowCount !== c.messages.length) return { kind: 'collision' };
  // Images get fresh ids: an id is no secret, and an import must never meet another account's row.
  const files = c.messages.flatMap((m) =>
    (m.attachments ?? []).map((file) => ({
      ...file,
      messageId: m.id,
      bytes: Buffer.from(file.data, 'base64'),
    })),
  );
  for (const file of files) {
    await client.query(
      `INSERT INTO attachments (id, user_id, conversation_id, message_id, name, content_type, size, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        randomUUID(),
        userId,
        c.id,
        file.messageId,
        file.name,
        file.contentType,
        file.bytes.length,
        file.bytes,
      ],
    );
  }
  const rated = c.messages.filter((m) => m.role === 'assistant' && m.feedback);
  for (const m of rated) {
    await client.query(
      `INSERT INTO message_feedback (message_id, user_id, conversation_id, model, rating, comment, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::"FeedbackRating", $6, $7, $8)`,
      [
        m.id,
        userId,
        c.id,
        m.model ?? '',
        m.feedback!.rating,
        m.feedback!.comment,
        m.feedback!.createdAt,
        m.feedback!.updatedAt,
      ],
    );
  }
  return { kind: 'imported', id: c.id, messages: c.messages.length };
}
