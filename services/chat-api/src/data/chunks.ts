import type { Database } from './db.js';

/** The text stored so far for replies still being written (their chunks, in order), by id. */
export async function streamingText(db: Database, messageIds: string[]): Promise<Map<string, string>> {
  if (messageIds.length === 0) return new Map();
  const { rows } = await db.pool.query<{ message_id: string; text: string }>(
    `SELECT message_id, string_agg(content, '' ORDER BY seq) AS text
       FROM message_chunks WHERE message_id = ANY($1::uuid[]) GROUP BY message_id`,
    [messageIds],
  );
  return new Map(rows.map((row) => [row.message_id, row.text]));
}

/** `messages` with the chunked text of any still `streaming` appended to their content. */
export async function withStreamingText<M extends { id: string; status: string; content: string }>(
  db: Database,
  messages: M[],
): Promise<M[]> {
  const streaming = messages.filter((m) => m.status === 'streaming').map((m) => m.id);
  if (streaming.length === 0) return messages;
  const text = await streamingText(db, streaming);
  return messages.map((m) => (text.has(m.id) ? { ...m, content: m.content + text.get(m.id)! } : m));
}
