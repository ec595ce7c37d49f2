import type { Database } from '../data/db.js';
import { markOrphanedRepliesInterrupted } from '../data/replies.js';

export const INTERRUPTED_TEXT = 'The server stopped while this reply was being generated.';

/**
 * Marks replies left `streaming` by a process that died as `interrupted`, keeping their partial
 * text. A live generation touches its row at least every STREAM_STALE_SECONDS / 3, and the ones
 * running here are skipped, so only orphans match.
 */
export async function sweepInterruptedMessages(
  db: Database,
  staleSeconds: number,
  runningHere: string[],
): Promise<string[]> {
  return markOrphanedRepliesInterrupted(db, INTERRUPTED_TEXT, staleSeconds, runningHere);
}
