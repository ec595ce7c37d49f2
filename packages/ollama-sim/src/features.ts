import { SimHttpError } from './http-util.js';
import { contentText } from './generator.js';
import { decodeImages, imageErrorMessage, isImage } from './images.js';
import type { Capability } from './known-models.js';
import { fullModelName, type SimModel } from './models.js';
import type { ChatMessageLike, ToolDeclaration } from './reply.js';

const THINK_LEVELS = ['high', 'medium', 'low'];

/** Ollama's `think` as it binds it from JSON: a boolean, `"high"`/`"medium"`/`"low"`, or unset. */
export function parseThink(value: unknown): boolean | string | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value ?? undefined;
  if (typeof value === 'string') {
    if (THINK_LEVELS.includes(value)) return value;
    throw new SimHttpError(
      400,
      `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", true, or false)`,
    );
  }
  throw new SimHttpError(400, 'think must be a boolean or string ("high", "medium", "low", true, or false)');
}

/**
 * Whether the model thinks: a thinking model does unless told `false`; asking any other model to think
 * is Ollama's 400.
 */
export function resolveThink(
  modelName: string,
  capabilities: readonly Capability[],
  think: unknown,
): boolean {
  const value = parseThink(think);
  const asked = value === true || (typeof value === 'string' && THINK_LEVELS.includes(value));
  if (capabilities.includes('thinking')) return value === undefined || asked;
  if (asked) throw new SimHttpError(400, `${JSON.stringify(modelName)} does not support thinking`);
  return false;
}

/** The `tools` of a request; an entry without a function name is dropped, as it can never be called. */
export function parseTools(value: unknown): ToolDeclaration[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SimHttpError(400, 'tools must be an array');
  return value.filter(
    (tool): tool is ToolDeclaration =>
      tool !== null &&
      typeof tool === 'object' &&
      typeof (tool as ToolDeclaration).function?.name === 'string',
  );
}

/**
 * The capability checks Ollama makes when it schedules a generation: an embedding-only model cannot
 * chat/generate (`"name" does not support chat`), and tools need the `tools` capability (the error
 * names the model in full, `registry.ollama.ai/library/llava:latest does not support tools`).
 */
export function checkCapabilities(
  requestedName: string,
  model: SimModel,
  capability: 'chat' | 'generate',
  tools: readonly ToolDeclaration[],
): void {
  if (!model.capabilities.includes('completion')) {
    throw new SimHttpError(400, `${JSON.stringify(requestedName)} does not support ${capability}`);
  }
  if (tools.length > 0 && !model.capabilities.includes('tools')) {
    throw new SimHttpError(400, `${fullModelName(model.name)} does not support tools`);
  }
}

/** An error Ollama reports after it accepted the request (500, or an `{"error"}` line when streaming). */
export class RunnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerError';
  }
}

/** Decodes every message's `images` (bad base64 is Ollama's 400) and returns how many there are. */
export function chatImageCount(messages: readonly ChatMessageLike[]): Buffer[] {
  const images: Buffer[] = [];
  for (const message of messages) images.push(...decodeImages(message?.images));
  return images;
}

/** A vision model's runner decodes each image; bytes that are not an image fail the request. */
export function checkImageBytes(model: SimModel, images: readonly Buffer[]): RunnerError | null {
  if (!model.capabilities.includes('vision')) return null;
  return images.every(isImage) ? null : new RunnerError(imageErrorMessage(model.imageEngine));
}

/**
 * Text of the prompt as a slot's KV cache sees it, so a later turn's shared prefix can be found. The
 * messages' texts joined by newlines, as `prompt_eval_count` counts them (four characters a token).
 */
export function chatCacheText(messages: readonly ChatMessageLike[]): string {
  return messages.map(messageCacheText).join('\n');
}

/** What the cache holds after a reply: the prompt, then the answer as the next turn will send it. */
export function cacheTextAfterReply(prompt: string, answer: ChatMessageLike): string {
  return `${prompt}\n${messageCacheText(answer)}`;
}

function messageCacheText(message: ChatMessageLike): string {
  const content = contentText(message?.content);
  const calls =
    Array.isArray(message?.tool_calls) && message.tool_calls.length > 0
      ? JSON.stringify(
          message.tool_calls.map((call: { function?: { name?: unknown; arguments?: unknown } }) => [
            call?.function?.name,
            call?.function?.arguments,
          ]),
        )
      : '';
  const images = Array.isArray(message?.images) ? message.images.length : 0;
  return `${content}${calls}${images > 0 ? `[img*${images}]` : ''}`;
}
