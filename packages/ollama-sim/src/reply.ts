import {
  contentText,
  createRandom,
  hash32,
  jsonPieces,
  proseTokens,
  simulatedReply,
  type SimReply,
} from './generator.js';
import type { Capability } from './known-models.js';
import { normalizeModelName } from '@corral/contracts';
import { sampleFromSchema } from './schema-sample.js';

/** A tool call as Ollama's /api/chat returns it (`arguments` is an object there, a JSON string in /v1). */
export interface SimToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

/** A reply with what a capable model adds: reasoning first, tool calls instead of text, images seen. */
export interface SimChatReply extends SimReply {
  /** Reasoning tokens, streamed in `thinking` before any content. */
  thinking: string[];
  /** Set instead of text when the model calls tools. */
  toolCalls: SimToolCall[];
  /** Images the model looked at (vision models only; others ignore images, as Ollama's runners do). */
  imagesSeen: number;
}

/** A tool as Ollama and OpenAI declare it: `{ type: "function", function: { name, parameters } }`. */
export interface ToolDeclaration {
  type?: string;
  function?: { name?: string; description?: string; parameters?: unknown };
}

export interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
  images?: unknown;
  tool_calls?: unknown;
}

export interface ChatReplyInput {
  model: string;
  capabilities: readonly Capability[];
  messages: readonly ChatMessageLike[];
  tools?: readonly ToolDeclaration[];
  /** Whether the model thinks (Ollama turns it on for thinking models when `think` is not given). */
  think: boolean;
  format?: unknown;
  /** Images in the request (all messages, or generate's `images`). */
  imageCount: number;
  seed?: number;
  numPredict?: number;
  responseTokens?: number;
}

/**
 * The text a chat reply depends on: the last user message, plus any tool results after it (so the turn
 * after a tool call answers differently from the one that asked for it).
 */
export function replyPrompt(messages: readonly ChatMessageLike[]): string {
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') {
      last = i;
      break;
    }
  }
  if (last < 0) return '';
  let prompt = contentText(messages[last]?.content);
  for (const message of messages.slice(last + 1)) {
    if (message?.role === 'tool') prompt += `\u0002${contentText(message.content)}`;
  }
  return prompt;
}

/** Whether this turn is the model's chance to call a tool: tools given, a user message last. */
export function wantsToolCall(input: Pick<ChatReplyInput, 'tools' | 'messages' | 'capabilities'>): boolean {
  return (
    (input.tools?.length ?? 0) > 0 &&
    input.capabilities.includes('tools') &&
    input.messages[input.messages.length - 1]?.role === 'user'
  );
}

// The tools named in the user's message, or the first tool: two named tools give two parallel calls.
function chosenTools(tools: readonly ToolDeclaration[], prompt: string): ToolDeclaration[] {
  const named = tools.filter((tool) => {
    const name = tool.function?.name;
    return typeof name === 'string' && name !== '' && prompt.toLowerCase().includes(name.toLowerCase());
  });
  return named.length > 0 ? named : tools.slice(0, 1);
}

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function toolCallsFor(input: ChatReplyInput, prompt: string, seed: number): SimToolCall[] {
  const tools = chosenTools(input.tools ?? [], prompt);
  return tools.map((tool, index) => {
    const name = tool.function?.name ?? '';
    const random = createRandom(
      hash32(`${normalizeModelName(input.model)}\u0004${prompt}\u0004${name}\u0004${seed}`),
    );
    let id = 'call_';
    for (let i = 0; i < 8; i++) id += ID_CHARS[Math.floor(random() * ID_CHARS.length)];
    const value = sampleFromSchema(tool.function?.parameters ?? { type: 'object' }, random);
    const args = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
    return { id, function: { index, name, arguments: args as Record<string, unknown> } };
  });
}

function imageTokens(count: number): string[] {
  return ['I', ' see', ` ${count}`, count === 1 ? ' image' : ' images', '.'];
}

/** The exact reply for a chat (or generate) request, given the model's capabilities. */
export function simulatedChatReply(input: ChatReplyInput): SimChatReply {
  const prompt = replyPrompt(input.messages);
  const seed = input.seed ?? 0;
  const modelName = normalizeModelName(input.model);
  const limit =
    input.numPredict !== undefined && input.numPredict > 0 ? Math.floor(input.numPredict) : Infinity;
  const thinking = input.think
    ? proseTokens(
        createRandom(hash32(`${modelName}\u0003${prompt}\u0003${seed}`)),
        input.responseTokens ?? 24,
      )
    : [];
  const imagesSeen = input.capabilities.includes('vision') ? input.imageCount : 0;

  if (wantsToolCall(input)) {
    const toolCalls = toolCallsFor(input, prompt, seed);
    const callTokens = jsonPieces(JSON.stringify(toolCalls.map((call) => call.function))).length;
    return {
      tokens: [],
      text: '',
      doneReason: 'stop',
      evalCount: thinking.length + callTokens,
      thinking,
      toolCalls,
      imagesSeen,
    };
  }

  let content = simulatedReply({
    model: input.model,
    prompt,
    seed,
    format: input.format,
    responseTokens: input.responseTokens,
  }).tokens;
  if (imagesSeen > 0 && input.format === undefined) {
    content = [...imageTokens(imagesSeen), ...content.map((t, i) => (i === 0 ? ` ${t}` : t))];
  }
  // num_predict counts reasoning and answer together.
  const thinkingKept = thinking.slice(0, Math.min(thinking.length, limit));
  const room = limit - thinkingKept.length;
  const tokens = room < content.length ? content.slice(0, Math.max(0, room)) : content;
  const cut = thinkingKept.length < thinking.length || tokens.length < content.length;
  return {
    tokens,
    text: tokens.join(''),
    doneReason: cut ? 'length' : 'stop',
    evalCount: thinkingKept.length + tokens.length,
    thinking: thinkingKept,
    toolCalls: [],
    imagesSeen,
  };
}
