import type { AttachmentView } from './attachments.js';
import { withStreamingText } from './chunks.js';
import { AppError } from '@corral/service-kit';
import type { Assistant } from '../generated/prisma/client.js';
import type { Prisma } from './db.js';
import { type Conversation, type Database, inTransaction, type Message } from './db.js';
import { CONVERSATION_COLUMNS, type ConversationRow, conversationFromRow } from './rows.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type TitleSource = Conversation['titleSource'];

export const conversationNotFound = () => new AppError('not_found', 'No such conversation.');

/**
 * The caller's conversation, or 404 — also for someone else's, so ids of others are never confirmed.
 * Plain SQL: every chat turn starts here, and Prisma's per-query overhead is several times the query's.
 */
export async function findOwnConversation(db: Database, userId: string, id: string): Promise<Conversation> {
  if (!UUID.test(id)) throw conversationNotFound();
  const { rows } = await db.pool.query<ConversationRow>({
    name: 'chat_find_own_conversation',
    text: `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2`,
    values: [id, userId],
  });
  const row = rows[0];
  if (!row) throw conversationNotFound();
  return conversationFromRow(row);
}

/**
 * Moves the conversation's current branch to `messageId` (a message of that conversation), unless
 * a reply is being written in it. The row lock taken first orders this against a turn starting
 * (a turn's one statement updates the same row): whichever commits second sees the other's rows.
 */
export function switchBranch(db: Database, conversationId: string, messageId: string): Promise<Conversation> {
  return inTransaction(db, async (client) => {
    await client.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [conversationId]);
    const { rows } = await client.query<{ target: boolean; streaming: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM messages WHERE id = $2 AND conversation_id = $1) AS target,
              EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND status = 'streaming') AS streaming`,
      [conversationId, messageId],
    );
    const check = rows[0];
    if (!check?.target) {
      throw new AppError('validation_failed', 'body.currentMessageId: not a message of this conversation', {
        extensions: {
          errors: [{ path: 'body.currentMessageId', message: 'not a message of this conversation' }],
        },
      });
    }
    if (check.streaming) {
      throw new AppError(
        'conflict',
        'A reply is still being written in this conversation; switch branches once it ends.',
      );
    }
    // updated_at stays: looking at another branch is not activity, the list order is kept.
    const updated = await client.query<ConversationRow>(
      `UPDATE conversations SET current_message_id = $2 WHERE id = $1 RETURNING ${CONVERSATION_COLUMNS}`,
      [conversationId, messageId],
    );
    const row = updated.rows[0];
    if (!row) throw conversationNotFound();
    return conversationFromRow(row);
  });
}

export interface NewConversation {
  userId: string;
  title: string;
  titleSource: TitleSource;
  model: string;
  systemPrompt: string | null;
  tags: string[];
}

/** With `assistant`, the conversation and its link to the assistant are written together. */
export function createConversation(
  db: Database,
  data: NewConversation,
  assistant?: { assistant: Assistant; options: Record<string, unknown> },
): Promise<Conversation> {
  if (!assistant) return db.prisma.conversation.create({ data });
  return db.prisma.conversation.create({
    data: {
      ...data,
      assistant: {
        create: {
          assistantId: assistant.assistant.id,
          name: assistant.assistant.name,
          options: assistant.options as Prisma.InputJsonObject,
        },
      },
    },
  });
}

export type ConversationChanges = Partial<
  Pick<Conversation, 'title' | 'titleSource' | 'model' | 'systemPrompt' | 'tags' | 'pinned' | 'archived'>
>;

/** Saves the changes and counts them as activity (the list's order). */
export function updateConversation(
  db: Database,
  conversationId: string,
  changes: ConversationChanges,
): Promise<Conversation> {
  return db.prisma.conversation.update({
    where: { id: conversationId },
    data: { ...changes, updatedAt: new Date() },
  });
}

/** Deletes the user's conversation (its messages by cascade). */
export async function deleteConversation(
  db: Database,
  userId: string,
  conversationId: string,
): Promise<void> {
  await db.prisma.conversation.deleteMany({ where: { id: conversationId, userId } });
}

/** How the conversation got its title, or null when it is gone. */
export async function titleSourceOf(db: Database, conversationId: string): Promise<TitleSource | null> {
  const current = await db.prisma.conversation.findUnique({
    where: { id: conversationId },
    select: { titleSource: true },
  });
  return current?.titleSource ?? null;
}

/** Saves a generated title unless the user set one meanwhile; whether it was saved. */
export async function saveGeneratedTitle(
  db: Database,
  conversationId: string,
  title: string,
): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `UPDATE conversations SET title = $1, title_source = 'generated'
      WHERE id = $2 AND title_source IN ('none', 'auto')`,
    [title, conversationId],
  );
  return Boolean(rowCount);
}

/** The message `messageId` of this conversation with that role, or null. */
export async function findConversationMessage(
  db: Database,
  conversationId: string,
  messageId: string,
  role: 'user' | 'assistant',
): Promise<Message | null> {
  if (!UUID.test(messageId)) return null;
  return db.prisma.message.findFirst({ where: { id: messageId, conversationId, role } });
}

/** The messages from the root to `leafId` (inclusive), following parent links. */
export function branchTo<M extends Pick<Message, 'id' | 'parentId'>>(
  messages: M[],
  leafId: string | null,
): M[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const path: M[] = [];
  const seen = new Set<string>();
  let cursor = leafId ? byId.get(leafId) : undefined;
  while (cursor && !seen.has(cursor.id)) {
    seen.add(cursor.id);
    path.push(cursor);
    cursor = cursor.parentId ? byId.get(cursor.parentId) : undefined;
  }
  return path.reverse();
}

/** Every message of the conversation; a reply still being written has the text stored so far. */
export async function allMessages(db: Database, conversationId: string): Promise<Message[]> {
  const messages = await db.prisma.message.findMany({
    where: { conversationId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return withStreamingText(db, messages);
}

export const toConversationView = (c: Conversation) => ({
  id: c.id,
  title: c.title,
  /** none | auto (first line of the first message) | generated (title model) | user (renamed). */
  titleSource: c.titleSource,
  model: c.model,
  systemPrompt: c.systemPrompt,
  tags: c.tags,
  pinned: c.pinned,
  archived: c.archived,
  currentMessageId: c.currentMessageId,
  folderId: c.folderId,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export const toMessageView = (m: Message, attachments: AttachmentView[] = []) => ({
  id: m.id,
  conversationId: m.conversationId,
  parentId: m.parentId,
  role: m.role,
  content: m.content,
  reasoning: m.reasoning,
  model: m.model,
  status: m.status,
  error: m.error,
  promptTokens: m.promptTokens,
  completionTokens: m.completionTokens,
  durationMs: m.durationMs,
  attachments,
  createdAt: m.createdAt.toISOString(),
  updatedAt: m.updatedAt.toISOString(),
});
