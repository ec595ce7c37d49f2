import type { Database } from '../data/db.js';

export interface RetentionResult {
  days: number;
  /** Conversations last updated before this were (or, dry run, would be) deleted. */
  cutoff: string;
  dryRun: boolean;
  conversations: number;
  messages: number;
}

const BATCH = 500;

/**
 * CHAT_RETENTION_DAYS: deletes conversations (and, by cascade, their messages) not updated for
 * `days` days, in batches so no statement holds many locks; `dryRun` only counts them. Replicas
 * running it at once skip each other's rows (SKIP LOCKED). `days` <= 0 keeps everything.
 */
export async function applyRetention(
  db: Database,
  days: number,
  { dryRun = false, now = new Date() }: { dryRun?: boolean; now?: Date } = {},
): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const result: RetentionResult = {
    days,
    cutoff: cutoff.toISOString(),
    dryRun,
    conversations: 0,
    messages: 0,
  };
  if (days <= 0) return result;
  if (dryRun) {
    const { rows } = await db.pool.query<{ conversations: string; messages: string }>(
      `SELECT COUNT(*)::text AS conversations,
              (SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                WHERE c.updated_at < $1)::text AS messages
         FROM conversations WHERE updated_at < $1`,
      [cutoff],
    );
    result.conversations = Number(rows[0]?.conversations ?? 0);
    result.messages = Number(rows[0]?.messages ?? 0);
    return result;
  }
  for (;;) {
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
      [cutoff, BATCH],
    );
    const deleted = Number(rows[0]?.conversations ?? 0);
    result.conversations += deleted;
    result.messages += Number(rows[0]?.messages ?? 0);
    if (deleted < BATCH) return result;
  }
}
