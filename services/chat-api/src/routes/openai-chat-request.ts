import { AppError } from '@corral/service-kit';
import { z } from 'zod';
import type { ChatRequest, ChatTurn, OllamaToolCall } from '../domain/gateway.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([
    z.string(),
    z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
  ]),
});
const otherPart = z.looseObject({ type: z.string() });
const messageContent = z.union([z.string(), z.array(z.union([textPart, imagePart, otherPart]))]);

const toolCall = z.object({
  id: z.string().min(1).max(200),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().min(1).max(200), arguments: z.string() }),
});

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: messageContent.nullable().optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).nullable().optional(),
  tool_call_id: z.string().optional(),
});

const functionTool = z.object({
  type: z.string(),
  function: z
    .object({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    })
    .optional(),
});

const toolChoice = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

const responseFormat = z.union([
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().optional(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/** The sampling parameters `/v1/chat/completions` and `/v1/completions` share (Ollama options). */
export const samplingFields = {
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
};

type SamplingInput = z.infer<z.ZodObject<typeof samplingFields>> & {
  max_completion_tokens?: number | null | undefined;
};

/**
 * The `POST /v1/chat/completions` body. Parameters that would change the answer and cannot be
 * honoured are kept in the schema so `unsupportedParameter` can refuse them by name; the rest
 * (`user`, `metadata`, `store`, …) do not change the answer and are ignored.
 */
export const chatBody = z.object({
  model: z.string().min(1).max(200),
  messages: z.array(message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  ...samplingFields,
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  n: z.number().int().min(1).nullable().optional(),
  tools: z.array(functionTool).max(128).nullable().optional(),
  tool_choice: toolChoice.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  response_format: responseFormat.nullable().optional(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  functions: z.array(z.unknown()).nullable().optional(),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
  modalities: z.array(z.string()).nullable().optional(),
  prediction: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
  user: z.string().optional(),
});

export type ChatBody = z.infer<typeof chatBody>;

/** A 400 in OpenAI's shape naming the parameter (its message starts with it; `extensions.param` holds it). */
export function paramError(param: string, message: string): AppError {
  return new AppError('bad_request', `${param}: ${message}`, { extensions: { param } });
}

/** Refuses the first parameter that would change the answer and that Ollama cannot honour. */
export function refuseUnsupported(body: ChatBody): void {
  const no = (param: string, why: string) => {
    throw paramError(param, why);
  };
  if (body.n != null && body.n > 1) no('n', 'only one choice (n = 1) is supported.');
  if (body.logprobs === true) no('logprobs', 'log probabilities are not supported.');
  if (body.top_logprobs != null && body.top_logprobs > 0)
    no('top_logprobs', 'log probabilities are not supported.');
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0)
    no('logit_bias', 'logit bias is not supported.');
  if (body.functions != null) no('functions', 'use `tools` (the deprecated `functions` is not supported).');
  if (body.function_call != null)
    no('function_call', 'use `tool_choice` (the deprecated `function_call` is not supported).');
  if (body.audio != null) no('audio', 'audio output is not supported.');
  if (body.modalities && body.modalities.some((m) => m !== 'text'))
    no('modalities', 'only text output is supported.');
  if (body.prediction != null) no('prediction', 'predicted outputs are not supported.');
  if (body.web_search_options != null) no('web_search_options', 'web search is not supported.');
  body.tools?.forEach((tool, i) => {
    if (tool.type !== 'function')
      no(`tools[${i}].type`, `only "function" tools are supported (got "${tool.type.slice(0, 40)}").`);
    if (!tool.function) no(`tools[${i}].function`, 'a function tool needs its function.');
  });
  if (body.tool_choice === 'required') {
    no('tool_choice', '"required" cannot be enforced by the model server; use "auto" or name one function.');
  }
  const choice = body.tool_choice;
  if (
    choice &&
    typeof choice === 'object' &&
    !body.tools?.some((t) => t.function?.name === choice.function.name)
  ) {
    no('tool_choice', `no tool named "${choice.function.name.slice(0, 64)}" in tools.`);
  }
}

/** The tools to send: none for `tool_choice: "none"`, only the named one for a named choice. */
export function toolsToSend(body: ChatBody): unknown[] | undefined {
  const tools = body.tools;
  if (!tools || tools.length === 0 || body.tool_choice === 'none') return undefined;
  const choice = body.tool_choice;
  const chosen =
    choice && typeof choice === 'object'
      ? tools.filter((t) => t.function?.name === choice.function.name)
      : tools;
  return chosen.map((tool) => ({ type: 'function', function: tool.function }));
}

/** `response_format` as Ollama's `format`. */
export function formatOf(body: ChatBody): unknown {
  const format = body.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return 'json';
  return format.json_schema.schema ?? 'json';
}

/** `reasoning_effort` as Ollama's `think` (`none` turns thinking off). */
export function thinkOf(body: ChatBody): boolean | string | undefined {
  const effort = body.reasoning_effort;
  if (effort == null) return undefined;
  if (effort === 'none') return false;
  return effort === 'minimal' ? 'low' : effort;
}

/** The sampling parameters as Ollama options (`max_completion_tokens`, else `max_tokens`, → `num_predict`). */
export function ollamaOptions(body: SamplingInput): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (body.temperature != null) options.temperature = body.temperature;
  if (body.top_p != null) options.top_p = body.top_p;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) options.num_predict = maxTokens;
  if (body.stop != null) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.seed != null) options.seed = body.seed;
  if (body.frequency_penalty != null) options.frequency_penalty = body.frequency_penalty;
  if (body.presence_penalty != null) options.presence_penalty = body.presence_penalty;
  return options;
}

/** Loads an image content part (data: or http(s) URL) as base64. */
export type ImageLoader = (url: string, param: string) => Promise<string>;

/**
 * OpenAI messages as Ollama's: `developer` is `system`; text parts joined; image parts loaded into
 * `images`; an assistant's `tool_calls` with their arguments parsed to objects; a `tool` message
 * keeps its role and gets the `tool_name` of the call it answers.
 */
export async function toOllamaMessages(body: ChatBody, loadImage: ImageLoader): Promise<ChatTurn[]> {
  const callNames = new Map<string, string>();
  const turns: ChatTurn[] = [];
  for (const [i, m] of body.messages.entries()) {
    const param = `messages[${i}]`;
    let content = '';
    const images: string[] = [];
    if (typeof m.content === 'string') content = m.content;
    else if (m.content) {
      for (const [j, part] of m.content.entries()) {
        if (part.type === 'text' && 'text' in part) content += String(part.text);
        else if (part.type === 'image_url' && 'image_url' in part && m.role === 'user') {
          const ref = part.image_url as string | { url: string };
          images.push(
            await loadImage(typeof ref === 'string' ? ref : ref.url, `${param}.content[${j}].image_url.url`),
          );
        } else {
          throw paramError(
            `${param}.content[${j}].type`,
            `"${part.type.slice(0, 40)}" parts are not supported here.`,
          );
        }
      }
    }
    const turn: ChatTurn = { role: m.role === 'developer' ? 'system' : m.role, content };
    if (images.length > 0) turn.images = images;
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      turn.tool_calls = m.tool_calls.map((call, j): OllamaToolCall => {
        callNames.set(call.id, call.function.name);
        return {
          id: call.id,
          function: {
            index: j,
            name: call.function.name,
            arguments: parseArguments(
              call.function.arguments,
              `${param}.tool_calls[${j}].function.arguments`,
            ),
          },
        };
      });
    }
    if (m.role === 'tool') {
      const name = m.tool_call_id ? callNames.get(m.tool_call_id) : undefined;
      if (!name)
        throw paramError(
          `${param}.tool_call_id`,
          'a tool message must answer a tool call of an earlier assistant message.',
        );
      turn.tool_name = name;
    }
    turns.push(turn);
  }
  return turns;
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw paramError(param, 'arguments must be a JSON object.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw paramError(param, 'arguments must be a JSON object.');
  return value as Record<string, unknown>;
}

/** The Ollama chat request for a checked body (images loaded). */
export async function toOllamaChat(body: ChatBody, loadImage: ImageLoader): Promise<ChatRequest> {
  refuseUnsupported(body);
  const request: ChatRequest = {
    model: body.model,
    messages: await toOllamaMessages(body, loadImage),
    options: ollamaOptions(body),
  };
  const tools = toolsToSend(body);
  if (tools) request.tools = tools;
  const format = formatOf(body);
  if (format !== undefined) request.format = format;
  const think = thinkOf(body);
  if (think !== undefined) request.think = think;
  return request;
}
