import { AppError } from '@corral/service-kit';

/* Ollama's wire format as chat-api speaks it to the gateway: requests, chunks and tool calls. */

/** A tool call in Ollama's wire format: `arguments` is an object. */
export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

/** One chat turn in Ollama's wire format. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Base64 images (vision models). */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** On a `tool` turn: the function whose result this is. */
  tool_name?: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatTurn[];
  options?: Record<string, unknown>;
  /** Function tools, as OpenAI and Ollama both write them (`{type:"function",function:{…}}`). */
  tools?: unknown[];
  /** `"json"` or a JSON schema. */
  format?: unknown;
  /** Ollama's `think`: true/false or an effort (`"low"`, `"medium"`, `"high"`). */
  think?: boolean | string;
}

/** Ollama's `/api/generate` request (a plain prompt), as /v1/completions sends it. */
export interface GenerateRequest {
  model: string;
  prompt: string;
  suffix?: string;
  options?: Record<string, unknown>;
}

/** What a chat reply carries besides its text; each handler is optional. */
export interface ChatEvents {
  /** A piece of the model's reasoning (Ollama's `message.thinking`), apart from the answer. */
  thinking?(text: string): void;
  /** Tool calls the model made (one chunk may carry several). */
  toolCalls?(calls: OllamaToolCall[]): void;
}

/** Sent with a conversation's turns so the gateway keeps them on the backend holding its KV cache. */
export const CONVERSATION_HEADER = 'x-corral-conversation';

/** Ollama's final `done: true` chunk, the fields we use. */
export interface ChatDone {
  doneReason: string | undefined;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  evalDurationNs: number | undefined;
  totalDurationNs: number | undefined;
}

export interface GatewayModel {
  name: string;
  size?: number;
  modified_at?: string;
  details?: Record<string, unknown>;
}

export interface GatewayOptions {
  baseUrl: string;
  timeoutMs: number;
  idleTimeoutMs: number;
  /** GATEWAY_SERVICE_TOKEN: sent as `Authorization: Bearer` on every call when set. */
  serviceToken?: string | undefined;
  /** Told (at most once a minute) when the gateway refuses the service token: operators must act. */
  onAuthFailure?: (status: number) => void;
}

export interface OllamaChunk {
  response?: unknown;
  message?: { content?: unknown; thinking?: unknown; tool_calls?: unknown };
  done?: unknown;
  done_reason?: unknown;
  error?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  eval_duration?: unknown;
  total_duration?: unknown;
}

/** Ollama's tool calls, checked: a call without a function name is a malformed chunk. */
export function toolCallsOf(raw: unknown[]): OllamaToolCall[] {
  return raw.map((item) => {
    const call = (item ?? {}) as {
      id?: unknown;
      function?: { index?: unknown; name?: unknown; arguments?: unknown };
    };
    const fn = call.function;
    if (!fn || typeof fn.name !== 'string') {
      throw new AppError('bad_gateway', 'The model server sent a malformed tool call.');
    }
    const args = fn.arguments;
    return {
      ...(typeof call.id === 'string' ? { id: call.id } : {}),
      function: {
        ...(typeof fn.index === 'number' ? { index: fn.index } : {}),
        name: fn.name,
        arguments: args !== null && typeof args === 'object' ? (args as Record<string, unknown>) : {},
      },
    };
  });
}

export const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
