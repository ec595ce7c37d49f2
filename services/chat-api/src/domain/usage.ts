import type { AdminUsageQuery, AdminUsageRow, UsageRow } from '@corral/contracts';
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

/** Stored usage only: budget checks and GET /api/usage go through UsageLedger, which adds unwritten usage. */
export async function tokensUsedToday(db: Database, userId: string): Promise<number> {
  const { rows } = await db.pool.query<{ total: string }>(
    `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0)::text AS total
       FROM usage_records WHERE user_id = $1 AND day = ${TODAY_UTC}`,
    [userId],
  );
  return Number(rows[0]?.total ?? 0);
}

export async function tokensUsedTodayByKey(db: Database, apiKeyId: string): Promise<number> {
  const { rows } = await db.pool.query<{ total: string }>(
    `SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0)::text AS total
       FROM usage_records WHERE api_key_id = $1 AND day = ${TODAY_UTC}`,
    [apiKeyId],
  );
  return Number(rows[0]?.total ?? 0);
}

function budgetSpent(scope: 'user' | 'api_key', budget: number, used: number): AppError {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const retryAfter = Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
  const whose = scope === 'user' ? 'The daily budget' : "This API key's daily budget";
  return new AppError('quota_exceeded', `${whose} of ${budget} tokens is spent; it resets at 00:00 UTC.`, {
    headers: { 'Retry-After': String(retryAfter) },
    extensions: { scope, budget, used },
  });
}

/** What budget checks read: today's tokens, stored and not yet written (see UsageLedger). */
export interface TokensToday {
  tokensUsedToday(userId: string): Promise<number>;
  tokensUsedTodayByKey(apiKeyId: string): Promise<number>;
}

/** 429 `quota_exceeded` once the user's daily token budget is spent (0 = no budget). */
export async function assertWithinBudget(usage: TokensToday, userId: string, budget: number): Promise<void> {
  if (budget <= 0) return;
  const used = await usage.tokensUsedToday(userId);
  if (used >= budget) throw budgetSpent('user', budget, used);
}

/** The same for one API key's own daily budget (DAILY_TOKEN_BUDGET_PER_KEY or an admin's override). */
export async function assertKeyWithinBudget(
  usage: TokensToday,
  apiKeyId: string,
  budget: number,
): Promise<void> {
  if (budget <= 0) return;
  const used = await usage.tokensUsedTodayByKey(apiKeyId);
  if (used >= budget) throw budgetSpent('api_key', budget, used);
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

interface AdminCursor {
  d: string;
  u: string;
  m: string;
}

const encodeAdminCursor = (row: AdminUsageRow): string =>
  Buffer.from(JSON.stringify({ d: row.day, u: row.userId, m: row.model } satisfies AdminCursor)).toString(
    'base64url',
  );

function decodeAdminCursor(cursor: string): AdminCursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<AdminCursor>;
    if (
      typeof parsed.d === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(parsed.d) &&
      typeof parsed.u === 'string' &&
      typeof parsed.m === 'string'
    ) {
      return { d: parsed.d, u: parsed.u, m: parsed.m };
    }
  } catch {
    // fall through
  }
  throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', {
    extensions: { errors: [{ path: 'query.cursor', message: 'invalid cursor' }] },
  });
}

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
    const { d, u, m } = decodeAdminCursor(query.cursor);
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
  const items = rows.slice(0, query.limit).map((row) => ({
    day: row.day,
    userId: row.user_id,
    model: row.model,
    requests: Number(row.requests),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeAdminCursor(last) : null };
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
