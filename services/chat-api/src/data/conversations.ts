import { AppError } from '@corral/service-kit';
import {
  type Conversation,
  type Database,
  inTransaction,
  type Message,
  type Prisma,
  type PrismaClient,
} from './db.js';
import { CONVERSATION_COLUMNS, type ConversationRow, conversationFromRow } from './rows.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const conversationNotFound = () => new AppError('not_found', 'No such conversation.');

/**
 * The caller's conversation, or 404 — also for someone else's, so ids of others are never confirmed.
 * Plain SQL: every chat turn starts here, and Prisma's per-query overhead is several times the query's.
 */
export async function findOwnConversation(db: Database, userId: string, id: string): Promise<Conversation> {
  if (!UUID.test(id)) throw conversationNotFound();
  const { rows } = await db.pool.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2`,
    [id, userId],
  );
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
  db: Database,
  userId: string,
  query: ListQuery,
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.q) return searchConversations(db, userId, { ...query, q: query.q }, cursor);
  const and: Prisma.ConversationWhereInput[] = [{ userId }];
  if (query.archived !== 'all') and.push({ archived: query.archived });
  if (query.pinned !== undefined) and.push({ pinned: query.pinned });
  if (cursor) {
    const at = new Date(cursor.u);
    and.push({ OR: [{ updatedAt: { lt: at } }, { updatedAt: at, id: { lt: cursor.i } }] });
  }
  const rows = await db.prisma.conversation.findMany({
    where: { AND: and },
    orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  return page(rows, query.limit);
}

function page(rows: Conversation[], limit: number): { items: Conversation[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** The newest conversations (after the cursor) that search probes one by one before using the index. */
const SEARCH_PROBE_WINDOW = 100;

/**
 * `?q=`: conversations whose title or any message contains `q` (ILIKE '%q%', as Prisma's
 * `contains`/`insensitive` sends it, `%` and `_` included), same order and cursor as the list.
 *
 * Never reads other users' messages. Two steps, each bounded by the user:
 * 1. Walk the user's newest conversations (after the cursor, at most SEARCH_PROBE_WINDOW of them)
 *    in index order and probe each one's messages; stops as soon as the page is full. Cheap when
 *    the word is common in the user's history.
 * 2. Only if that left the page short: the user's messages containing the word, from the
 *    (user_id, content) trigram index (few, or step 1 would have filled the page), joined to the
 *    user's conversations older than the walked window, with the title matches there.
 * A single `title ILIKE … OR EXISTS (messages …)` query left this choice to the planner, which for
 * mid-frequency words scanned every user's matching messages first (seconds at 1M messages).
 */
async function searchConversations(
  db: Database,
  userId: string,
  query: ListQuery & { q: string },
  cursor: Cursor | undefined,
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const take = query.limit + 1;
  const window = Math.max(SEARCH_PROBE_WINDOW, take * 5);
  const params: unknown[] = [userId, query.q];
  const filters = ['c.user_id = $1'];
  if (query.archived !== 'all') {
    params.push(query.archived);
    filters.push(`c.archived = $${params.length}`);
  }
  if (query.pinned !== undefined) {
    params.push(query.pinned);
    filters.push(`c.pinned = $${params.length}`);
  }
  if (cursor) {
    params.push(cursor.u, cursor.i);
    const at = `$${params.length - 1}::timestamptz`;
    const id = `$${params.length}::uuid`;
    filters.push(`(c.updated_at < ${at} OR (c.updated_at = ${at} AND c.id < ${id}))`);
  }
  const where = filters.join(' AND ');
  const pattern = `('%' || $2 || '%')`;
  const order = 'ORDER BY c.updated_at DESC, c.id DESC';
  const beyond = '(c.updated_at < b.updated_at OR (c.updated_at = b.updated_at AND c.id < b.id))';

  const { rows: recent } = await db.pool.query<{ id: string }>(
    `SELECT c.id FROM (SELECT c.id, c.title, c.updated_at FROM conversations c WHERE ${where} ${order} LIMIT ${window}) c
      WHERE c.title ILIKE ${pattern}
         OR EXISTS (SELECT 1 FROM messages m
                     WHERE m.conversation_id = c.id AND m.user_id = $1 AND m.content ILIKE ${pattern})
      ${order} LIMIT ${take}`,
    params,
  );
  const ids = recent.map((row) => row.id);
  if (ids.length < take) {
    // Both halves start from the user's rows: title matches among the user's conversations, and
    // conversations reached from the user's matching messages (by primary key).
    const { rows: older } = await db.pool.query<{ id: string }>(
      `WITH boundary AS (SELECT c.updated_at, c.id FROM conversations c WHERE ${where} ${order} OFFSET ${window - 1} LIMIT 1),
            hits AS MATERIALIZED (
              SELECT DISTINCT m.conversation_id AS id FROM messages m WHERE m.user_id = $1 AND m.content ILIKE ${pattern}
            )
       SELECT c.id, c.updated_at FROM boundary b, conversations c
        WHERE ${where} AND ${beyond} AND c.title ILIKE ${pattern}
       UNION
       SELECT c.id, c.updated_at FROM boundary b, hits h JOIN conversations c ON c.id = h.id
        WHERE ${where} AND ${beyond}
       ORDER BY updated_at DESC, id DESC LIMIT ${take - ids.length}`,
      params,
    );
    for (const row of older) if (!ids.includes(row.id)) ids.push(row.id);
  }
  if (ids.length === 0) return { items: [], nextCursor: null };
  const rows = await db.prisma.conversation.findMany({
    where: { id: { in: ids }, userId },
    orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }],
  });
  return page(rows, query.limit);
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
