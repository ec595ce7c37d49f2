import { AppError } from '@corral/service-kit';
import type { Conversation, Message, Prisma, PrismaClient } from './db.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const conversationNotFound = () => new AppError('not_found', 'No such conversation.');

/** The caller's conversation, or 404 — also for someone else's, so ids of others are never confirmed. */
export async function findOwnConversation(
  prisma: PrismaClient,
  userId: string,
  id: string,
): Promise<Conversation> {
  if (!UUID.test(id)) throw conversationNotFound();
  const conversation = await prisma.conversation.findFirst({ where: { id, userId } });
  if (!conversation) throw conversationNotFound();
  return conversation;
}

export interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  pinned?: boolean | undefined;
  archived: boolean | 'all';
}

interface Cursor {
  u: string;
  i: string;
}

const encodeCursor = (c: Conversation): string =>
  Buffer.from(JSON.stringify({ u: c.updatedAt.toISOString(), i: c.id } satisfies Cursor)).toString(
    'base64url',
  );

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof parsed.u === 'string' &&
      typeof parsed.i === 'string' &&
      UUID.test(parsed.i) &&
      !Number.isNaN(Date.parse(parsed.u))
    ) {
      return { u: parsed.u, i: parsed.i };
    }
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', {
    extensions: { errors: [{ path: 'query.cursor', message: 'invalid cursor' }] },
  });
}

/**
 * A page of the user's conversations, most recently active first. Keyset pagination on
 * (updated_at, id) uses the (user_id, updated_at DESC, id DESC) index, so page 500 costs what page 1 does.
 */
export async function listConversations(
  prisma: PrismaClient,
  userId: string,
  query: ListQuery,
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const and: Prisma.ConversationWhereInput[] = [{ userId }];
  if (query.archived !== 'all') and.push({ archived: query.archived });
  if (query.pinned !== undefined) and.push({ pinned: query.pinned });
  if (query.q) {
    // ILIKE over titles and message text; the pg_trgm GIN indexes serve both.
    and.push({
      OR: [
        { title: { contains: query.q, mode: 'insensitive' } },
        { messages: { some: { content: { contains: query.q, mode: 'insensitive' } } } },
      ],
    });
  }
  if (query.cursor) {
    const { u, i } = decodeCursor(query.cursor);
    const at = new Date(u);
    and.push({ OR: [{ updatedAt: { lt: at } }, { updatedAt: at, id: { lt: i } }] });
  }
  const rows = await prisma.conversation.findMany({
    where: { AND: and },
    orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/** The messages from the root to `leafId` (inclusive), following parent links. */
export function branchTo(messages: Message[], leafId: string | null): Message[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const path: Message[] = [];
  const seen = new Set<string>();
  let cursor = leafId ? byId.get(leafId) : undefined;
  while (cursor && !seen.has(cursor.id)) {
    seen.add(cursor.id);
    path.push(cursor);
    cursor = cursor.parentId ? byId.get(cursor.parentId) : undefined;
  }
  return path.reverse();
}

export function allMessages(prisma: PrismaClient, conversationId: string): Promise<Message[]> {
  return prisma.message.findMany({
    where: { conversationId },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
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
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export const toMessageView = (m: Message) => ({
  id: m.id,
  conversationId: m.conversationId,
  parentId: m.parentId,
  role: m.role,
  content: m.content,
  model: m.model,
  status: m.status,
  error: m.error,
  promptTokens: m.promptTokens,
  completionTokens: m.completionTokens,
  durationMs: m.durationMs,
  createdAt: m.createdAt.toISOString(),
  updatedAt: m.updatedAt.toISOString(),
});
