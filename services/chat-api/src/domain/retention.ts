import type { Database } from '../data/db.js';
import { countExpired, deleteExpiredBatch } from '../data/retention.js';

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
    const counted = await countExpired(db, cutoff);
    result.conversations = counted.conversations;
    result.messages = counted.messages;
    return result;
  }
  for (;;) {
    const deleted = await deleteExpiredBatch(db, cutoff, BATCH);
    result.conversations += deleted.conversations;
    result.messages += deleted.messages;
    if (deleted.conversations < BATCH) return result;
  }
}
