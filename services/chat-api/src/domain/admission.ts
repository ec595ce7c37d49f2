import type { AuthPrincipal } from '@corral/auth-client';
import type { ChatContext } from '../context.js';
import type { EffectiveLimits } from '../data/limits.js';
import { assertModelAllowed } from './models.js';
import { assertKeyWithinBudget, assertWithinBudget } from './usage.js';

/**
 * Everything checked before tokens are spent, the same for the UI and /v1: the model is allowed
 * (deployment, user and API key allowlists), the user's daily budget and the API key's are not
 * spent. Returns the user's limits (for the stream slot).
 */
export async function admitGeneration(
  ctx: ChatContext,
  caller: AuthPrincipal,
  model: string,
): Promise<EffectiveLimits> {
  const limits = await ctx.limits.effective(caller.userId);
  await assertModelAllowed(ctx, caller, model);
  await assertWithinBudget(ctx.usage, caller.userId, limits.dailyTokenBudget);
  if (caller.kind === 'api_key') {
    await assertKeyWithinBudget(ctx.usage, caller.tokenId, await ctx.limits.apiKeyBudget(caller.tokenId));
  }
  return limits;
}

/**
 * Counts one request against the user's requests per minute (an admin's value or the default);
 * 429 `rate_limited` past it. Returns the X-RateLimit-* headers for the answer.
 */
export async function countRequest(ctx: ChatContext, userId: string): Promise<Record<string, string>> {
  const limits = await ctx.limits.effective(userId);
  const { headers } = await ctx.rateLimiter.consume(userId, limits.requestsPerMinute);
  return headers;
}
