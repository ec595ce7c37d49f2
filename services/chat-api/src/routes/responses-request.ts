import { parseInput } from '@corral/service-kit';
import { z } from 'zod';
import { paramError } from './openai-chat-request.js';

const contentPart = z.looseObject({ type: z.string() });
const messageItem = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'system', 'developer', 'assistant']),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCallItem = z.object({
  type: z.literal('function_call'),
  id: z.string().optional(),
  call_id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  arguments: z.string(),
});
const functionOutputItem = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(200),
  output: z.union([z.string(), z.array(contentPart)]),
});
const otherItem = z.looseObject({ type: z.string() });

const tool = z.looseObject({
  type: z.string(),
  name: z.string().min(1).max(64).optional(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const textFormat = z.union([
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().optional(),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullable().optional(),
  }),
]);

/** The stateless `POST /v1/responses` body: what changes the answer and is not honoured is refused by name. */
export const responsesBody = z.object({
  model: z.string().min(1).max(200),
  input: z.union([
    z.string(),
    z.array(z.union([functionCallItem, functionOutputItem, messageItem, otherItem])).min(1),
  ]),
  instructions: z.string().nullable().optional(),
  tools: z.array(tool).max(128).nullable().optional(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.object({ type: z.literal('function'), name: z.string() }),
      z.looseObject({ type: z.string() }),
    ])
    .nullable()
    .optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.object({ format: textFormat.optional() }).nullable().optional(),
  reasoning: z
    .object({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullable().optional() })
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().nullable().optional(),
  store: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  user: z.string().optional(),
});

export type ResponsesBody = z.infer<typeof responsesBody>;

function textOfParts(content: string | Array<{ type: string }>, param: string): { parts: unknown[] } {
  if (typeof content === 'string') return { parts: [{ type: 'text', text: content }] };
  return {
    parts: content.map((part, j) => {
      const typed = part as { type: string; text?: unknown; image_url?: unknown };
      if (['input_text', 'output_text', 'text'].includes(typed.type) && typeof typed.text === 'string') {
        return { type: 'text', text: typed.text };
      }
      if (typed.type === 'input_image' && typeof typed.image_url === 'string') {
        return { type: 'image_url', image_url: { url: typed.image_url } };
      }
      throw paramError(
        `${param}.content[${j}].type`,
        `"${typed.type.slice(0, 40)}" parts are not supported.`,
      );
    }),
  };
}

/**
 * A Responses request as the equivalent chat completions body (then checked and sent as chat
 * completions are): `instructions` first as a system message, function calls and their outputs as
 * assistant `tool_calls` and `tool` messages, `text.format` as `response_format`.
 */
export function responsesAsChat(input: unknown): { body: ResponsesBody; chat: unknown } {
  const body = parseInput(responsesBody, input ?? {});
  if (body.previous_response_id) {
    throw paramError(
      'previous_response_id',
      'responses are not stored; send the whole conversation in `input`.',
    );
  }
  if (body.conversation != null) throw paramError('conversation', 'conversations are not stored here.');
  if (body.background === true) throw paramError('background', 'background responses are not supported.');
  if (body.top_logprobs != null && body.top_logprobs > 0)
    throw paramError('top_logprobs', 'log probabilities are not supported.');
  const messages: Array<Record<string, unknown>> = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else {
    for (const [i, item] of body.input.entries()) {
      const param = `input[${i}]`;
      if (item.type === 'function_call') {
        const call = item as z.infer<typeof functionCallItem>;
        const entry = {
          id: call.call_id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        };
        const last = messages.at(-1);
        if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(entry);
        else messages.push({ role: 'assistant', content: null, tool_calls: [entry] });
      } else if (item.type === 'function_call_output') {
        const out = item as z.infer<typeof functionOutputItem>;
        const content = typeof out.output === 'string' ? out.output : textOfParts(out.output, param).parts;
        messages.push({ role: 'tool', tool_call_id: out.call_id, content });
      } else if (item.type === 'reasoning') {
        // Earlier reasoning is not sent back to the model (as Ollama does).
      } else if ('role' in item && (item.type === undefined || item.type === 'message')) {
        const message = item as z.infer<typeof messageItem>;
        messages.push({ role: message.role, content: textOfParts(message.content, param).parts });
      } else {
        throw paramError(
          `${param}.type`,
          `"${String(item.type).slice(0, 40)}" input items are not supported.`,
        );
      }
    }
  }
  const tools = body.tools?.map((t, i) => {
    if (t.type !== 'function' || !t.name)
      throw paramError(
        `tools[${i}].type`,
        `only "function" tools are supported (got "${t.type.slice(0, 40)}").`,
      );
    return {
      type: 'function',
      function: {
        name: t.name,
        description: t.description ?? undefined,
        parameters: t.parameters ?? undefined,
      },
    };
  });
  const choice = body.tool_choice;
  let toolChoice: unknown = choice;
  if (choice && typeof choice === 'object') {
    if (choice.type !== 'function' || typeof choice.name !== 'string')
      throw paramError('tool_choice', 'only "auto", "none" or a named function.');
    toolChoice = { type: 'function', function: { name: choice.name } };
  }
  const format = body.text?.format;
  const responseFormat =
    format?.type === 'json_schema'
      ? { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } }
      : format;
  const chat = {
    model: body.model,
    messages,
    ...(tools ? { tools } : {}),
    ...(toolChoice != null ? { tool_choice: toolChoice } : {}),
    ...(body.parallel_tool_calls != null ? { parallel_tool_calls: body.parallel_tool_calls } : {}),
    ...(responseFormat ? { response_format: responseFormat } : {}),
    ...(body.reasoning?.effort ? { reasoning_effort: body.reasoning.effort } : {}),
    ...(body.max_output_tokens != null ? { max_completion_tokens: body.max_output_tokens } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { top_p: body.top_p } : {}),
  };
  return { body, chat };
}
