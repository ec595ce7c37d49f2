import { SimHttpError } from './http-util.js';
import { goBase64ErrorOffset } from './images.js';
import type { ChatMessageLike } from './reply.js';

/** An OpenAI chat message turned into Ollama's, plus its decoded images. */
export interface ConvertedMessages {
  messages: ChatMessageLike[];
  images: Buffer[];
}

const IMAGE_PREFIXES = [
  'data:;base64,',
  ...['jpeg', 'jpg', 'png', 'webp'].map((t) => `data:image/${t};base64,`),
];

// Ollama's OpenAI layer takes data URLs only (no http URLs), of these types.
function imageFromUrl(part: Record<string, unknown>): Buffer {
  const field = part.image_url;
  const url =
    typeof field === 'string'
      ? field
      : field !== null && typeof field === 'object'
        ? (field as { url?: unknown }).url
        : undefined;
  if (typeof url !== 'string') throw new SimHttpError(400, 'invalid message format');
  const prefix = IMAGE_PREFIXES.find((p) => url.startsWith(p));
  if (!prefix) throw new SimHttpError(400, 'invalid image input');
  const data = url.slice(prefix.length);
  if (goBase64ErrorOffset(data) >= 0) throw new SimHttpError(400, 'invalid message format');
  return Buffer.from(data.replace(/[\r\n]/g, ''), 'base64');
}

// OpenAI sends arguments as a JSON string; Ollama wants the object.
function toolCallsOf(value: unknown): ChatMessageLike['tool_calls'] {
  if (!Array.isArray(value)) return undefined;
  return value.map((call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => {
    let args: unknown;
    try {
      args = JSON.parse(typeof call?.function?.arguments === 'string' ? call.function.arguments : '');
    } catch {
      throw new SimHttpError(400, 'invalid tool call arguments');
    }
    return { id: call?.id, function: { name: call?.function?.name, arguments: args } };
  });
}

/** Ollama's `FromChatRequest` for messages: text parts, data-URL images, tool calls and tool results. */
export function convertOpenAIMessages(raw: readonly unknown[]): ConvertedMessages {
  const messages: ChatMessageLike[] = [];
  const images: Buffer[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== 'object') throw new SimHttpError(400, 'invalid message format');
    const message = item as Record<string, unknown>;
    const role = message.role;
    const toolCalls = toolCallsOf(message.tool_calls);
    const content = message.content;
    if (typeof content === 'string') {
      messages.push({ role, content, ...(toolCalls ? { tool_calls: toolCalls } : {}) });
    } else if (Array.isArray(content)) {
      // Ollama makes one message per part; one message with the texts joined and the images attached
      // reads the same to the simulator and keeps the reply tied to the user's text.
      let text = '';
      const own: string[] = [];
      for (const part of content) {
        if (part === null || typeof part !== 'object') throw new SimHttpError(400, 'invalid message format');
        const typed = part as Record<string, unknown>;
        if (typed.type === 'text') {
          if (typeof typed.text !== 'string') throw new SimHttpError(400, 'invalid message format');
          text += typed.text;
        } else if (typed.type === 'image_url') {
          const image = imageFromUrl(typed);
          images.push(image);
          own.push(image.toString('base64'));
        } else throw new SimHttpError(400, 'invalid message format');
      }
      messages.push({
        role,
        content: text,
        ...(own.length > 0 ? { images: own } : {}),
        ...(toolCalls ? { tool_calls: toolCalls } : {}),
      });
    } else {
      // Content may only be missing when the message carries tool calls.
      if (!toolCalls) throw new SimHttpError(400, `invalid message content type: ${goType(content)}`);
      messages.push({ role, content: '', tool_calls: toolCalls });
    }
  }
  return { messages, images };
}

function goType(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'number') return 'float64';
  if (typeof value === 'boolean') return 'bool';
  return 'map[string]interface {}';
}

/** `reasoning_effort` (or `reasoning.effort`) as Ollama's `think`: `none` is off, no value leaves it unset. */
export function thinkFromOpenAI(body: Record<string, unknown>): unknown {
  const reasoning = body.reasoning as { effort?: unknown } | undefined | null;
  const effort = reasoning?.effort ?? body.reasoning_effort;
  if (effort === undefined || effort === null || effort === '') return undefined;
  if (typeof effort !== 'string' || !['high', 'medium', 'low', 'none'].includes(effort)) {
    throw new SimHttpError(
      400,
      `invalid reasoning value: '${String(effort)}' (must be "high", "medium", "low", or "none")`,
    );
  }
  return effort === 'none' ? false : effort;
}

/** `response_format` as Ollama's `format`: `json_object` → `"json"`, `json_schema` → its schema. */
export function formatFromOpenAI(responseFormat: unknown): unknown {
  if (responseFormat === null || typeof responseFormat !== 'object') return undefined;
  const { type, json_schema: jsonSchema } = responseFormat as { type?: unknown; json_schema?: unknown };
  const kind = typeof type === 'string' ? type.trim().toLowerCase() : '';
  if (kind === 'json_object') return 'json';
  if (kind === 'json_schema' && jsonSchema !== null && typeof jsonSchema === 'object') {
    return (jsonSchema as { schema?: unknown }).schema ?? undefined;
  }
  return undefined;
}
