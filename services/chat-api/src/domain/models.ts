import { type EffectiveLimits, normalizeModelName } from '@corral/contracts';
import type { AuthPrincipal } from '@corral/auth-client';
import { AppError, TtlCache } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import type { Caller } from './admission.js';
import type { GatewayModel } from './gateway.js';

/** Whether an allowlist (none or empty = all) names `model`, under any name Ollama treats as the same. */
function listed(list: readonly string[] | null, model: string): boolean {
  if (list === null || list.length === 0) return true;
  const wanted = normalizeModelName(model);
  return list.some((entry) => normalizeModelName(entry) === wanted);
}

/** Whether `list` names `model` (an empty list names nothing). */
function names(list: readonly string[], model: string): boolean {
  return list.length > 0 && listed(list, model);
}

/**
 * Whether the caller may use `model`. An admin must not have kept it from users (Admin → Model
 * pool's switch; see ModelAvailability). The deployment's ALLOWED_MODELS and an API key's own
 * allowlist must list it. A model some group names is group-restricted: the user needs a group
 * that names it, or their own allowlist must name it. Any other model follows the user's own
 * allowlist (an admin's, in user_limits; empty = every model).
 */
export function mayUseModel(
  ctx: ChatContext,
  principal: AuthPrincipal,
  model: string,
  limits: Pick<EffectiveLimits, 'allowedModels' | 'groupModels' | 'restrictedModels'>,
): boolean {
  if (ctx.availability.isHidden(model)) return false;
  if (!listed(ctx.config.ALLOWED_MODELS, model) || !listed(principal.models, model)) return false;
  if (names(limits.restrictedModels, model)) {
    return names(limits.groupModels, model) || names(limits.allowedModels, model);
  }
  return listed(limits.allowedModels, model);
}

/** 404 `model_not_found` unless the caller may use `model` (with the limits resolved for the request). */
export function assertModelAllowed(ctx: ChatContext, caller: Caller, model: string): void {
  if (!mayUseModel(ctx, caller, model, caller.limits)) {
    throw new AppError(
      'model_not_found',
      `The model '${model}' does not exist or you do not have access to it.`,
    );
  }
}

/** The gateway's models the caller may use. */
export async function visibleModels(ctx: ChatContext, caller: Caller): Promise<GatewayModel[]> {
  const models = await ctx.gateway.listModels();
  return models.filter((model) => mayUseModel(ctx, caller, model.name, caller.limits));
}

export const isEmbeddingModel = (model: GatewayModel): boolean =>
  /embed|minilm|bge/i.test(model.name) || String(model.details?.family ?? '').includes('bert');

/** How long a model's capabilities are reused: they change only when the model is replaced. */
const CAPABILITIES_CACHE_MS = 60_000;
const capabilityCaches = new WeakMap<object, TtlCache<string[]>>();

/**
 * The model's capabilities as the gateway's /api/show reports them (cached a minute); [] when the
 * gateway cannot say (an unknown model, an older Ollama), so nothing is offered that may not work.
 */
export async function modelCapabilities(ctx: Pick<ChatContext, 'gateway'>, model: string): Promise<string[]> {
  let cache = capabilityCaches.get(ctx.gateway);
  if (!cache) {
    cache = new TtlCache<string[]>(1000);
    capabilityCaches.set(ctx.gateway, cache);
  }
  try {
    return await cache.getOrLoad(normalizeModelName(model), CAPABILITIES_CACHE_MS, () =>
      ctx.gateway.capabilities(model),
    );
  } catch {
    return [];
  }
}
