import { normalizeModelName } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { type Assistant, assistantNotFound, findAssistant } from '../data/assistants.js';
import type { Caller } from './admission.js';
import { assertModelAllowed, mayUseModel } from './models.js';

/** The assistant's parameters as Ollama options (only those it sets). */
export function assistantOptions(assistant: Assistant): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (assistant.temperature !== null) options.temperature = assistant.temperature;
  if (assistant.topP !== null) options.top_p = assistant.topP;
  if (assistant.maxTokens !== null) options.num_predict = assistant.maxTokens;
  if (assistant.seed !== null) options.seed = assistant.seed;
  return options;
}

/** The caller's group ids, read only when a shared assistant is limited to groups. */
async function groupIdsOf(ctx: ChatContext, caller: Caller): Promise<Set<string>> {
  const grants = await ctx.groups.of(caller.userId);
  return new Set(grants.groups.map((group) => group.id));
}

/**
 * Whether the caller may see and use an assistant: their own personal one, or a shared one open to
 * everyone or to a group of theirs. (Its base model is checked separately: see usableAssistants.)
 */
function opensTo(assistant: Assistant, caller: Caller, groups: () => Promise<Set<string>>): Promise<boolean> {
  if (!assistant.shared) return Promise.resolve(assistant.userId === caller.userId);
  if (assistant.groupIds.length === 0) return Promise.resolve(true);
  return groups().then((mine) => assistant.groupIds.some((id) => mine.has(id)));
}

/** Whether the caller may change or delete it: the owner of a personal one; an admin for a shared one. */
export const mayEditAssistant = (assistant: Assistant, caller: Caller): boolean =>
  assistant.shared ? caller.role === 'admin' : assistant.userId === caller.userId;

/**
 * Of `candidates`, those the caller may use: open to them and with a base model their allowlists
 * pass. An admin also sees every shared one (to manage it), usable or not.
 */
export async function usableAssistants(
  ctx: ChatContext,
  caller: Caller,
  candidates: Assistant[],
): Promise<Assistant[]> {
  let groups: Promise<Set<string>> | undefined;
  const lazyGroups = () => (groups ??= groupIdsOf(ctx, caller));
  const usable: Assistant[] = [];
  for (const assistant of candidates) {
    if (caller.role === 'admin' && assistant.shared) usable.push(assistant);
    else if (
      (await opensTo(assistant, caller, lazyGroups)) &&
      mayUseModel(ctx, caller, assistant.baseModel, caller.limits)
    )
      usable.push(assistant);
  }
  return usable;
}

/**
 * The assistant a new conversation is started with: 404 unless it is open to the caller (someone
 * else's, or limited to groups they are not in), `model_not_found` unless its base model passes
 * the caller's allowlists.
 */
export async function assistantForConversation(
  ctx: ChatContext,
  caller: Caller,
  id: string,
): Promise<Assistant> {
  const assistant = await findAssistant(ctx.db, id);
  if (!assistant || !(await opensTo(assistant, caller, () => groupIdsOf(ctx, caller)))) {
    throw assistantNotFound();
  }
  assertModelAllowed(ctx, caller, assistant.baseModel);
  return assistant;
}

/**
 * An assistant's base model must be one the pool has; a personal one's must also pass its owner's
 * allowlists (404 `model_not_found`). A shared one is checked for each user when they use it, so an
 * admin may share one on a model only some groups may use.
 */
export async function assertBaseModel(ctx: ChatContext, caller: Caller, model: string, shared: boolean) {
  if (!shared) assertModelAllowed(ctx, caller, model);
  const wanted = normalizeModelName(model);
  const pool = await ctx.gateway.listModels();
  if (!pool.some((m) => normalizeModelName(m.name) === wanted)) {
    throw new AppError(
      'model_not_found',
      `The model '${model}' does not exist or you do not have access to it.`,
    );
  }
}
