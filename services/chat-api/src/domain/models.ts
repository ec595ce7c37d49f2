import { normalizeModelName } from '@corral/contracts';
import type { AuthPrincipal } from '@corral/auth-client';
import { AppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import type { GatewayModel } from './gateway.js';

/** Whether an allowlist (none or empty = all) names `model`, under any name Ollama treats as the same. */
function listed(list: readonly string[] | null, model: string): boolean {
  if (list === null || list.length === 0) return true;
  const wanted = normalizeModelName(model);
  return list.some((entry) => normalizeModelName(entry) === wanted);
}

/**
 * Whether the caller may use `model`: the deployment's ALLOWED_MODELS, the user's allowlist an
 * admin set (user_limits) and an API key's own allowlist — all that apply must list it.
 */
export function mayUseModel(
  ctx: ChatContext,
  principal: AuthPrincipal,
  model: string,
  userModels: readonly string[],
): boolean {
  return (
    listed(ctx.config.ALLOWED_MODELS, model) && listed(userModels, model) && listed(principal.models, model)
  );
}

export async function assertModelAllowed(
  ctx: ChatContext,
  principal: AuthPrincipal,
  model: string,
): Promise<void> {
  const { allowedModels } = await ctx.limits.effective(principal.userId);
  if (!mayUseModel(ctx, principal, model, allowedModels)) {
    throw new AppError(
      'model_not_found',
      `The model '${model}' does not exist or you do not have access to it.`,
    );
  }
}

/** The gateway's models the caller may use. */
export async function visibleModels(ctx: ChatContext, principal: AuthPrincipal): Promise<GatewayModel[]> {
  const [models, limits] = await Promise.all([
    ctx.gateway.listModels(),
    ctx.limits.effective(principal.userId),
  ]);
  return models.filter((model) => mayUseModel(ctx, principal, model.name, limits.allowedModels));
}

export const isEmbeddingModel = (model: GatewayModel): boolean =>
  /embed|minilm|bge/i.test(model.name) || String(model.details?.family ?? '').includes('bert');
