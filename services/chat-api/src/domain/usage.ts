import { AppError } from '@corral/service-kit';
import type { Database } from '../data/db.js';

export interface UsageEntry {
  userId: string;
  /** The API key's id, or null for the web UI (access tokens). */
  apiKeyId: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

const TODAY_UTC = `(now() AT TIME ZONE 'UTC')::date`;

/** Adds one request's tokens to the user's (and key's) row for today, atomically across replicas. */
export async function recordUsage(db: Database, entry: UsageEntry): Promise<void> {
  await db.pool.query(
    `INSERT INTO usage_records (day, user_id, api_key_id, model, requests, prompt_tokens, completion_tokens, updated_at)
     VALUES (${TODAY_UTC}, $1, $2, $3, 1, $4, $5, now())
     ON CONFLICT (day, user_id, api_key_id, model) DO UPDATE SET
       requests = usage_records.requests + 1,
       prompt_tokens = usage_records.prompt_tokens + EXCLUDED.prompt_tokens,
       completion_tokens = usage_records.completion_tokens + EXCLUDED.completion_tokens,
       updated_at = now()`,
    [entry.userId, entry.apiKeyId ?? '', entry.model, entry.promptTokens, entry.completionTokens],
  );
}

export async function tokensUsedToday(db: Database, userId: string): Promise<number> {
  const { rows } = await db.pool.query<{ total: string }>(
    `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0)::text AS total
       FROM usage_records WHERE user_id = $1 AND day = ${TODAY_UTC}`,
    [userId],
  );
  return Number(rows[0]?.total ?? 0);
}

/** 429 `quota_exceeded` once the user's DAILY_TOKEN_BUDGET is spent (0 = no budget). */
export async function assertWithinBudget(db: Database, userId: string, budget: number): Promise<void> {
  if (budget <= 0) return;
  const used = await tokensUsedToday(db, userId);
  if (used >= budget) {
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const retryAfter = Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
    throw new AppError(
      'quota_exceeded',
      `The daily budget of ${budget} tokens is spent; it resets at 00:00 UTC.`,
      {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { budget, used },
      },
    );
  }
}

export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

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
