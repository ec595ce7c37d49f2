import type { AuthPrincipal } from '@corral/auth-client';
import type { ChatContext } from '../context.js';
import type { EffectiveLimits } from '../data/limits.js';
import { assertModelAllowed } from './models.js';
import { assertKeyWithinBudget, assertWithinBudget } from './usage.js';

/** An authenticated caller with their limits, resolved once per request and passed down from there. */
export type Caller = AuthPrincipal & { limits: EffectiveLimits };

/**
 * The start of every authenticated request: resolves the user's limits (an admin's values or the
 * defaults) once, and counts the request against their requests per minute (429 `rate_limited`
 * past it). Returns the caller with those limits and the X-RateLimit-* headers for the answer.
 */
export async function admitRequest(
  ctx: ChatContext,
  principal: AuthPrincipal,
): Promise<{ caller: Caller; headers: Record<string, string> }> {
  const limits = await ctx.limits.effective(principal.userId);
  const { headers } = await ctx.rateLimiter.consume(principal.userId, limits.requestsPerMinute);
  return { caller: { ...principal, limits }, headers };
}

/**
 * Everything checked before tokens are spent, the same for the UI and /v1: the model is allowed
 * (deployment, user and API key allowlists), the user's daily budget and the API key's are not
 * spent. Returns the user's limits (for the stream slot).
 */
export async function admitGeneration(
  ctx: ChatContext,
  caller: Caller,
  model: string,
): Promise<EffectiveLimits> {
  const { limits } = caller;
  assertModelAllowed(ctx, caller, model);
  await assertWithinBudget(ctx.usage, caller.userId, limits.dailyTokenBudget);
  if (caller.kind === 'api_key') {
    await assertKeyWithinBudget(ctx.usage, caller.tokenId, await ctx.limits.apiKeyBudget(caller.tokenId));
  }
  return limits;
}
