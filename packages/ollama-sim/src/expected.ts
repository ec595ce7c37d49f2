import { chatImageCount, parseTools, resolveThink } from './features.js';
import { decodeImages } from './images.js';
import type { Capability } from './known-models.js';
import { describeModel } from './models.js';
import { convertOpenAIMessages, formatFromOpenAI, thinkFromOpenAI } from './openai-request.js';
import { simulatedChatReply, type ChatMessageLike, type SimChatReply } from './reply.js';

export interface ExpectedReplyOptions {
  /** The simulator's seed option, if it was set. */
  seed?: number;
  /** The simulator's responseTokens option, if it was set. */
  responseTokens?: number;
  /** The model's capabilities, if it was added with its own; default: what the simulator infers. */
  capabilities?: Capability[];
}

function capabilitiesOf(model: string, sim: ExpectedReplyOptions): Capability[] {
  return sim.capabilities ?? describeModel({ name: model }, '').capabilities;
}

/** Expected reply for an Ollama `/api/chat` request body (tools, think, images and format included). */
export function expectedChatReply(
  request: {
    model: string;
    messages?: readonly ChatMessageLike[];
    format?: unknown;
    tools?: readonly unknown[];
    think?: unknown;
    options?: { seed?: number; num_predict?: number };
  },
  sim: ExpectedReplyOptions = {},
): SimChatReply {
  const capabilities = capabilitiesOf(request.model, sim);
  const messages = request.messages ?? [];
  return simulatedChatReply({
    model: request.model,
    capabilities,
    messages,
    tools: parseTools(request.tools),
    think: resolveThink(request.model, capabilities, request.think),
    format: request.format,
    imageCount: chatImageCount(messages).length,
    seed: request.options?.seed ?? sim.seed,
    numPredict: request.options?.num_predict,
    responseTokens: sim.responseTokens,
  });
}

/** Expected reply for an Ollama `/api/generate` request body. */
export function expectedGenerateReply(
  request: {
    model: string;
    prompt?: string;
    format?: unknown;
    images?: readonly string[];
    think?: unknown;
    options?: { seed?: number; num_predict?: number };
  },
  sim: ExpectedReplyOptions = {},
): SimChatReply {
  const capabilities = capabilitiesOf(request.model, sim);
  return simulatedChatReply({
    model: request.model,
    capabilities,
    messages: [{ role: 'user', content: request.prompt ?? '' }],
    think: resolveThink(request.model, capabilities, request.think),
    format: request.format,
    imageCount: decodeImages(request.images).length,
    seed: request.options?.seed ?? sim.seed,
    numPredict: request.options?.num_predict,
    responseTokens: sim.responseTokens,
  });
}

/** Expected reply for an OpenAI `/v1/chat/completions` request body. */
export function expectedOpenAIChatReply(
  request: {
    model: string;
    messages: readonly unknown[];
    seed?: number | null;
    max_tokens?: number | null;
    max_completion_tokens?: number | null;
    response_format?: unknown;
    tools?: readonly unknown[] | null;
    reasoning_effort?: string | null;
  },
  sim: ExpectedReplyOptions = {},
): SimChatReply {
  const capabilities = capabilitiesOf(request.model, sim);
  const { messages, images } = convertOpenAIMessages(request.messages);
  return simulatedChatReply({
    model: request.model,
    capabilities,
    messages,
    tools: parseTools(request.tools),
    think: resolveThink(request.model, capabilities, thinkFromOpenAI(request as Record<string, unknown>)),
    format: formatFromOpenAI(request.response_format),
    imageCount: images.length,
    seed: request.seed ?? sim.seed,
    numPredict: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    responseTokens: sim.responseTokens,
  });
}
