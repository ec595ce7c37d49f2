import { createHash } from 'node:crypto';

/** The header chat-api sets on conversation turns: one value per conversation. */
export const CONVERSATION_HEADER = 'x-corral-conversation';

/** Longest conversation key taken from the header (anything longer is hashed like the rest). */
const MAX_KEY_LENGTH = 256;

/** How many leading messages identify a conversation when no key is given (system prompt + first turn). */
const LEADING_MESSAGES = 2;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/**
 * The conversation key a request is routed by: the caller's header when set (chat-api), else a
 * hash of the model and the leading messages (every turn of a chat repeats them), else none.
 */
export function affinityKeyOf(
  header: string | string[] | undefined,
  model: string,
  body: Record<string, unknown>,
): string | undefined {
  const given = Array.isArray(header) ? header[0] : header;
  if (typeof given === 'string' && given.trim() !== '') {
    return `c:${model}:${hash(given.trim().slice(0, MAX_KEY_LENGTH))}`;
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length < LEADING_MESSAGES) return undefined;
  return `m:${model}:${hash(JSON.stringify(messages.slice(0, LEADING_MESSAGES)))}`;
}

export interface KeepAlivePolicy {
  /** The pool's keep_alive, set on every request (unset: the client's, or Ollama's default). */
  value: string | undefined;
  /** Whether a client may unload (0) or pin (negative) a model on the shared servers. */
  clientMayUnloadOrPin: boolean;
}

/** Whether a keep_alive value unloads at once (0) or pins the model (negative). */
function unloadsOrPins(value: unknown): boolean {
  if (typeof value === 'number') return value <= 0;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed.startsWith('-') || /^0+(\.0+)?(ms|s|m|h)?$/.test(trimmed);
  }
  return false;
}

/**
 * The body's keep_alive under the pool's policy, or undefined when the body goes as it is. A client
 * value that unloads or pins is replaced by the pool's (or dropped); the pool's value, when set,
 * replaces any other.
 */
export function applyKeepAlive(
  body: Record<string, unknown>,
  policy: KeepAlivePolicy,
): Record<string, unknown> | undefined {
  const has = Object.hasOwn(body, 'keep_alive');
  const given = body.keep_alive;
  if (policy.clientMayUnloadOrPin && has) return undefined;
  if (policy.value !== undefined) {
    return given === policy.value ? undefined : { ...body, keep_alive: policy.value };
  }
  if (has && unloadsOrPins(given)) {
    const { keep_alive: _dropped, ...rest } = body;
    return rest;
  }
  return undefined;
}
