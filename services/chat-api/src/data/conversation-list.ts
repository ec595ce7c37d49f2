import { z } from 'zod';
import { UUID } from './conversations.js';
import { decodeCursor, keysetPage } from './cursor.js';
import type { Conversation, Database, Prisma } from './db.js';

export interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  pinned?: boolean | undefined;
  filed?: boolean | undefined;
  archived: boolean | 'all';
}

const conversationCursor = z.object({
  u: z.string().refine((value) => !Number.isNaN(Date.parse(value))),
  i: z.string().regex(UUID),
});
type Cursor = z.infer<typeof conversationCursor>;

/**
 * A page of the user's conversations, most recently active first. Keyset pagination on
 * (updated_at, id) uses the (user_id, updated_at DESC, id DESC) index, so page 500 costs what page 1 does.
 */
export async function listConversations(
  db: Database,
  userId: string,
  query: ListQuery,
): Promise<{ items: Conversation[]; nextCursor: string | null }> {
  const cursor = query.cursor ? decodeCursor(query.cursor, conversationCursor) : undefined;
  if (query.q) return searchConversations(db, userId, { ...query, q: query.q }, cursor);
  const and: Prisma.ConversationWhereInput[] = [{ userId }];
  if (query.archived !== 'all') and.push({ archived: query.archived });
  if (query.pinned !== undefined) and.push({ pinned: query.pinned });
  if (query.filed !== undefined) and.push({ folderId: query.filed ? { not: null } : null });
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

const page = (rows: Conversation[], limit: number) =>
  keysetPage(rows, limit, (c) => ({ u: c.updatedAt.toISOString(), i: c.id }));

/** The newest conversations (after the cursor) that search probes one by one before using the index. */
const SEARCH_PROBE_WINDOW = 100;

/**
 * `?q=`: conversations whose title or any message contains `q` literally (ILIKE '%q%' with
 * `%`, `_` and `\` in `q` escaped), same order and cursor as the list.
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
  // Matched literally: LIKE's metacharacters (`%`, `_` and the escape `\` itself) are escaped.
  const params: unknown[] = [userId, escapeLike(query.q)];
  const filters = ['c.user_id = $1'];
  if (query.archived !== 'all') {
    params.push(query.archived);
    filters.push(`c.archived = $${params.length}`);
  }
  if (query.pinned !== undefined) {
    params.push(query.pinned);
    filters.push(`c.pinned = $${params.length}`);
  }
  if (query.filed !== undefined) filters.push(`c.folder_id IS ${query.filed ? 'NOT ' : ''}NULL`);
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

/** `text` for a LIKE pattern that matches it literally (backslash is PostgreSQL's default escape). */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
