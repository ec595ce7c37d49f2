import { z } from 'zod';
import type { AdminUsageQuery, AdminUsageRow, UsageRow } from '@corral/contracts';
import { decodeCursor, keysetPage } from './cursor.js';
import type { Database } from './db.js';

const TODAY_UTC = `(now() AT TIME ZONE 'UTC')::date`;

/** Today's stored tokens of one user or one API key (a column name of ours, never input). */
async function storedTokensToday(
  db: Database,
  column: 'user_id' | 'api_key_id',
  id: string,
): Promise<number> {
  const { rows } = await db.pool.query<{ total: string }>(
    `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0)::text AS total
       FROM usage_records WHERE ${column} = $1 AND day = ${TODAY_UTC}`,
    [id],
  );
  return Number(rows[0]?.total ?? 0);
}

/** Stored usage only: budget checks and GET /api/usage go through UsageLedger, which adds unwritten usage. */
export const tokensUsedToday = (db: Database, userId: string): Promise<number> =>
  storedTokensToday(db, 'user_id', userId);

export const tokensUsedTodayByKey = (db: Database, apiKeyId: string): Promise<number> =>
  storedTokensToday(db, 'api_key_id', apiKeyId);

/** A user's usage by day and model, newest day first. */
export async function usageByDay(db: Database, userId: string, days: number): Promise<UsageRow[]> {
  const { rows } = await db.pool.query<{
    day: string;
    model: string;
    requests: string;
    prompt_tokens: string;
    completion_tokens: string;
  }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, model, SUM(requests)::text AS requests,
            SUM(prompt_tokens)::text AS prompt_tokens, SUM(completion_tokens)::text AS completion_tokens
       FROM usage_records
      WHERE user_id = $1 AND day > ${TODAY_UTC} - $2::int
      GROUP BY day, model ORDER BY day DESC, model`,
    [userId, days],
  );
  return rows.map((row) => ({
    day: row.day,
    model: row.model,
    requests: Number(row.requests),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
  }));
}

const adminCursor = z.object({ d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), u: z.string(), m: z.string() });

/**
 * Every user's usage by UTC day, user and model (API keys folded in), newest day first, then by
 * user and model; keyset-paged so page 100 costs what page 1 does.
 */
export async function adminUsage(
  db: Database,
  query: AdminUsageQuery,
): Promise<{ items: AdminUsageRow[]; nextCursor: string | null }> {
  const params: unknown[] = [query.days];
  const where = [`day > ${TODAY_UTC} - $1::int`];
  if (query.userId) {
    params.push(query.userId);
    where.push(`user_id = $${params.length}`);
  }
  if (query.model) {
    params.push(query.model);
    where.push(`model = $${params.length}`);
  }
  if (query.cursor) {
    const { d, u, m } = decodeCursor(query.cursor, adminCursor);
    params.push(d, u, m);
    const [pd, pu, pm] = [params.length - 2, params.length - 1, params.length];
    where.push(`(day < $${pd}::date OR (day = $${pd}::date AND (user_id, model) > ($${pu}, $${pm})))`);
  }
  params.push(query.limit + 1);
  const { rows } = await db.pool.query<{
    day: string;
    user_id: string;
    model: string;
    requests: string;
    prompt_tokens: string;
    completion_tokens: string;
  }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, user_id, model, SUM(requests)::text AS requests,
            SUM(prompt_tokens)::text AS prompt_tokens, SUM(completion_tokens)::text AS completion_tokens
       FROM usage_records
      WHERE ${where.join(' AND ')}
      GROUP BY day, user_id, model
      ORDER BY day DESC, user_id, model
      LIMIT $${params.length}`,
    params,
  );
  const mapped = rows.map((row) => ({
    day: row.day,
    userId: row.user_id,
    model: row.model,
    requests: Number(row.requests),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
  }));
  return keysetPage(mapped, query.limit, (row) => ({ d: row.day, u: row.userId, m: row.model }));
}

/** Each listed user's tokens over the last `days` UTC days (users without usage are left out). */
export async function usageByUser(
  db: Database,
  userIds: string[],
  days: number,
): Promise<Map<string, { requests: number; promptTokens: number; completionTokens: number }>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await db.pool.query<{
    user_id: string;
    requests: string;
    prompt_tokens: string;
    completion_tokens: string;
  }>(
    `SELECT user_id, SUM(requests)::text AS requests, SUM(prompt_tokens)::text AS prompt_tokens,
            SUM(completion_tokens)::text AS completion_tokens
       FROM usage_records
      WHERE day > ${TODAY_UTC} - $1::int AND user_id = ANY($2::text[])
      GROUP BY user_id`,
    [days, userIds],
  );
  return new Map(
    rows.map((row) => [
      row.user_id,
      {
        requests: Number(row.requests),
        promptTokens: Number(row.prompt_tokens),
        completionTokens: Number(row.completion_tokens),
      },
    ]),
  );
}

/** Today's totals for the admin summary (`GET /api/metrics/chat`). */
export async function usageToday(db: Database): Promise<{
  users: number;
  byModel: Array<{ model: string; requests: number; promptTokens: number; completionTokens: number }>;
}> {
  const [users, byModel] = await Promise.all([
    db.pool.query<{ users: string }>(
      `SELECT COUNT(DISTINCT user_id)::text AS users FROM usage_records WHERE day = ${TODAY_UTC}`,
    ),
    db.pool.query<{ model: string; requests: string; prompt_tokens: string; completion_tokens: string }>(
      `SELECT model, SUM(requests)::text AS requests, SUM(prompt_tokens)::text AS prompt_tokens,
              SUM(completion_tokens)::text AS completion_tokens
         FROM usage_records WHERE day = ${TODAY_UTC} GROUP BY model ORDER BY model`,
    ),
  ]);
  return {
    users: Number(users.rows[0]?.users ?? 0),
    byModel: byModel.rows.map((row) => ({
      model: row.model,
      requests: Number(row.requests),
      promptTokens: Number(row.prompt_tokens),
      completionTokens: Number(row.completion_tokens),
    })),
  };
}

/** One day's usage by one user (and key: '' for none) and model, to be added to what is stored. */
export interface UsageRowToAdd {
  day: string;
  userId: string;
  apiKeyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/** Adds a batch of rows to the stored totals in one statement. */
export async function addUsage(db: Database, rows: UsageRowToAdd[]): Promise<void> {
  await db.pool.query(
    `INSERT INTO usage_records (day, user_id, api_key_id, model, requests, prompt_tokens, completion_tokens, updated_at)
     SELECT u.day, u.user_id, u.api_key_id, u.model, u.requests, u.prompt_tokens, u.completion_tokens, now()
       FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[])
         AS u(day, user_id, api_key_id, model, requests, prompt_tokens, completion_tokens)
     ON CONFLICT (day, user_id, api_key_id, model) DO UPDATE SET
       requests = usage_records.requests + EXCLUDED.requests,
       prompt_tokens = usage_records.prompt_tokens + EXCLUDED.prompt_tokens,
       completion_tokens = usage_records.completion_tokens + EXCLUDED.completion_tokens,
       updated_at = now()`,
    [
      rows.map((r) => r.day),
      rows.map((r) => r.userId),
      rows.map((r) => r.apiKeyId),
      rows.map((r) => r.model),
      rows.map((r) => r.requests),
      rows.map((r) => r.promptTokens),
      rows.map((r) => r.completionTokens),
    ],
  );
}
