import type { Database } from './db.js';

export interface ExpiredCount {
  conversations: number;
  messages: number;
}

/** Conversations not updated since `cutoff`, and their messages: what retention would delete. */
export async function countExpired(db: Database, cutoff: Date): Promise<ExpiredCount> {
  const { rows } = await db.pool.query<{ conversations: string; messages: string }>(
    `SELECT COUNT(*)::text AS conversations,
            (SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE c.updated_at < $1)::text AS messages
       FROM conversations WHERE updated_at < $1`,
    [cutoff],
  );
  return { conversations: Number(rows[0]?.conversations ?? 0), messages: Number(rows[0]?.messages ?? 0) };
}

/**
 * Deletes up to `batch` conversations not updated since `cutoff` (messages by cascade), skipping
 * rows another replica has locked; returns what went.
 */
export async function deleteExpiredBatch(db: Database, cutoff: Date, batch: number): Promise<ExpiredCount> {
  // All parts of one statement see the same snapshot: the count sees the messages the cascade removes.
  const { rows } = await db.pool.query<{ conversations: string; messages: string }>(
    `WITH doomed AS (
       SELECT id FROM conversations WHERE updated_at < $1
        ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM conversations c USING doomed WHERE c.id = doomed.id RETURNING c.id
     )
     SELECT (SELECT COUNT(*) FROM gone)::text AS conversations,
            (SELECT COUNT(*) FROM messages WHERE conversation_id IN (SELECT id FROM gone))::text AS messages`,
    [cutoff, batch],
  );
  return { conversations: Number(rows[0]?.conversations ?? 0), messages: Number(rows[0]?.messages ?? 0) };
}
