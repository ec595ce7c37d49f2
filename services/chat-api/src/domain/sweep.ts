import type { Database } from '../data/db.js';

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
  const { rows } = await db.pool.query<{ id: string }>(
    `UPDATE messages
        SET status = 'interrupted', error = COALESCE(error, $1), updated_at = now()
      WHERE status = 'streaming'
        AND updated_at <= now() - make_interval(secs => $2)
        AND NOT (id = ANY($3::uuid[]))
      RETURNING id`,
    [INTERRUPTED_TEXT, staleSeconds, runningHere],
  );
  return rows.map((row) => row.id);
}
