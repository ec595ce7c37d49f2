import { AppError } from '@corral/service-kit';

export interface UsageEntry {
  userId: string;
  /** The API key's id, or null for the web UI (access tokens). */
  apiKeyId: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

export function budgetSpent(scope: 'user' | 'api_key', budget: number, used: number): AppError {
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
