import type { AuthPrincipal } from '@corral/auth-client';
import type { ChatContext } from '../context.js';
import type { EffectiveLimits } from '../data/limits.js';
import { assertModelAllowed } from './models.js';
import type { Reservation } from './budget.js';
import type { RequestKind, StreamSlot } from './limits.js';
import { budgetSpent } from './usage.js';

/** An authenticated caller with their limits, resolved once per request and passed down from there. */
export type Caller = AuthPrincipal & { limits: EffectiveLimits };

/**
 * The start of every authenticated request: resolves the user's limits (an admin's values or the
 * defaults) once, and counts the request (429 `rate_limited` past the limit): a generation against
 * the user's requests per minute, a read against READ_RATE_LIMIT_PER_MINUTE. Returns the caller
 * with those limits and the X-RateLimit-* headers for the answer.
 */
export async function admitRequest(
  ctx: ChatContext,
  principal: AuthPrincipal,
  kind: RequestKind = 'generation',
): Promise<{ caller: Caller; headers: Record<string, string> }> {
  // The pool's switches are read here too, so the model checks below need no query.
  const [limits] = await Promise.all([ctx.limits.effective(principal.userId), ctx.availability.refresh()]);
  const perMinute = kind === 'generation' ? limits.requestsPerMinute : ctx.config.READ_RATE_LIMIT_PER_MINUTE;
  const { headers } = await ctx.rateLimiter.consume(principal.userId, perMinute, kind);
  return { caller: { ...principal, limits }, headers };
}

/**
 * An API key's daily budget: its own (an admin's value, else DAILY_TOKEN_BUDGET_PER_KEY), capped
 * by the budget of every key it was created from — a key never creates a key that may spend more
 * a day than itself. 0 = none (no key in the chain has one).
 */
export async function apiKeyBudget(ctx: ChatContext, caller: AuthPrincipal): Promise<number> {
  const chain = [caller.tokenId, ...(caller.ancestorKeyIds ?? [])];
  const budgets = await Promise.all(chain.map((id) => ctx.limits.apiKeyBudget(id)));
  const set = budgets.filter((budget) => budget > 0);
  return set.length === 0 ? 0 : Math.min(...set);
}

/** What admission granted a generation: the user's limits and its budget reservation. */
export interface Admission {
  limits: EffectiveLimits;
  /** Most completion tokens it may generate (its `num_predict`); null without a daily budget. */
  maxTokens: number | null;
  /** Settles the budget reservations to the usage recorded meanwhile; call once it is recorded. */
  settle(): void;
  /** The stream slot taken (when asked for one): released by whoever runs the generation. */
  slot: StreamSlot;
}

const NO_SLOT: StreamSlot = { refresh() {}, release() {} };

/**
 * Everything checked before tokens are spent, the same for the UI and /v1: the model is allowed
 * (deployment, user and API key allowlists), and the user's daily budget and the API key's have
 * tokens left, of which the request reserves its maximum (`wanted`, else BUDGET_RESERVATION_TOKENS)
 * atomically across replicas: parallel requests cannot all spend the same rest (see BudgetReservations).
 * With `slotId`, one of the user's stream slots is taken first (429 `too_many_streams`).
 */
export async function admitGeneration(
  ctx: ChatContext,
  caller: Caller,
  model: string,
  options: { wanted?: number | undefined; slotId?: string } = {},
): Promise<Admission> {
  const { limits } = caller;
  assertModelAllowed(ctx, caller, model);
  // The stream slot before the budget: a refused second stream does not hold the budget meanwhile.
  const slot = options.slotId
    ? await ctx.slots.acquire(caller.userId, options.slotId, limits.maxConcurrentStreams)
    : NO_SLOT;
  const wanted = options.wanted;
  const want = wanted ?? ctx.config.BUDGET_RESERVATION_TOKENS;
  const day = new Date().toISOString().slice(0, 10);
  const reservations: Reservation[] = [];
  /** What each reservation may really be spent on (its grant less usage it could not see). */
  const granted: number[] = [];
  const settle = () => reservations.forEach((r) => r.settle());
  try {
    const budgets: Array<['user' | 'api_key', string, number, () => Promise<number>]> = [
      ['user', caller.userId, limits.dailyTokenBudget, () => ctx.usage.tokensUsedToday(caller.userId)],
    ];
    if (caller.kind === 'api_key') {
      const keyBudget = await apiKeyBudget(ctx, caller);
      budgets.push([
        'api_key',
        caller.tokenId,
        keyBudget,
        () => ctx.usage.tokensUsedTodayByKey(caller.tokenId),
      ]);
    }
    for (const [scope, id, budget, usedToday] of budgets) {
      if (budget <= 0) continue;
      const used = await usedToday();
      if (used >= budget) throw budgetSpent(scope, budget, used);
      const reservation = await ctx.budgets.reserve(`${scope}:${id}:${day}`, budget, used, want);
      reservations.push(reservation);
      // Usage stored between the read above and the reservation was in neither (a request that
      // ended meanwhile had already given its reservation back): take it off this grant.
      const stored = (await usedToday()) - used;
      const tokens = reservation.tokens - Math.max(0, stored);
      if (tokens <= 0) throw budgetSpent(scope, budget, used + Math.max(0, stored));
      granted.push(tokens);
    }
  } catch (error) {
    settle();
    slot.release();
    throw error;
  }
  const maxTokens = granted.length === 0 ? null : Math.min(...granted);
  // At the end the reservation gives way to the recorded usage, but only once that usage is stored:
  // other replicas read it from the database, and a reservation gone before then would let them
  // spend the same tokens again.
  const settleWhenStored = () => {
    if (reservations.length === 0) return;
    void ctx.usage.flush().finally(settle);
  };
  return { limits, maxTokens, settle: settleWhenStored, slot };
}
