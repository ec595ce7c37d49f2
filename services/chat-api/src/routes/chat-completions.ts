import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { assertScope } from '@corral/auth-client';
import {
  AppError,
  assertJsonBody,
  type DirectRoute,
  byteSize,
  openAiRenderer,
  parseInput,
  readJsonBody,
  setRequestUser,
  toAppError,
} from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { admitGeneration, admitRequest, type Caller } from '../domain/admission.js';
import type { ChatDone, ChatEvents, OllamaToolCall } from '../domain/gateway.js';
import { chatBody, toOllamaChat } from './openai-chat-request.js';
import { openAiError } from './openai-errors.js';
import { assertMessageSizes } from '../domain/message-size.js';
import { finishGeneration, imageLoader } from './v1-generation.js';
import { type OpenStreamGauge, openEventStream } from './sse.js';

/** Ollama's tool calls in OpenAI's form: an id (`call_…`), `type`, and `arguments` as a JSON string. */
export function openAiToolCall(call: OllamaToolCall) {
  return {
    id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function' as const,
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) },
  };
}

type OpenAiToolCall = ReturnType<typeof openAiToolCall>;

const finishReason = (done: ChatDone, toolCalls: number): 'stop' | 'length' | 'tool_calls' =>
  toolCalls > 0 ? 'tool_calls' : done.doneReason === 'length' ? 'length' : 'stop';

/** The parameter an error names: a refused parameter, or the first field that failed validation. */
function paramOf(error: AppError): string | undefined {
  const { param, errors } = error.extensions as { param?: unknown; errors?: Array<{ path?: unknown }> };
  if (typeof param === 'string') return param;
  const path = errors?.[0]?.path;
  return typeof path === 'string' && path.startsWith('body.') ? path.slice('body.'.length) : undefined;
}

/** OpenAI's error body (routes/openai-errors.ts) with `param` filled in when the error names one. */
const sendV1Error = openAiRenderer((error) => {
  const body = openAiError(error);
  const param = paramOf(error);
  return param ? { error: { ...body.error, param } } : body;
});

/**
 * `POST /v1/chat/completions`, its one entry point: a service-kit direct route, answered before
 * express (whose routing is a large share of a short completion's cost) with the same steps as an
 * express route — JSON body (BODY_LIMIT, compressed or not), credentials, rate limit, CORS — and
 * errors in OpenAI's shape.
 */
export function chatCompletionsRoute(ctx: ChatContext): DirectRoute {
  return v1Route(ctx, '/v1/chat/completions', completeChat);
}

/**
 * A `POST /v1/…` generation route answered the way `/v1/chat/completions` is: JSON body
 * (BODY_LIMIT), credentials, rate limit, CORS, errors in OpenAI's shape; `complete` does the rest.
 */
export function v1Route(
  ctx: ChatContext,
  path: string,
  complete: (ctx: ChatContext, caller: Caller, input: unknown, res: ServerResponse) => Promise<void>,
): DirectRoute {
  const limit = byteSize(ctx.config.BODY_LIMIT);
  return {
    method: 'POST',
    path,
    renderError: sendV1Error,
    handle: async (req, res) => {
      assertJsonBody(req);
      const body = await readJsonBody(req, { limit });
      const authenticated = await ctx.auth.authenticate(req.headers.authorization);
      setRequestUser(authenticated.userId);
      assertScope(authenticated, 'inference');
      const { caller, headers: limitHeaders } = await admitRequest(ctx, authenticated);
      for (const [name, value] of Object.entries(limitHeaders)) res.setHeader(name, value);
      await complete(ctx, caller, body, res);
    },
  };
}

/**
 * A chat completion for an authenticated, rate-limited caller: admitted like any generation,
 * streamed or answered whole, usage recorded.
 */
async function completeChat(
  ctx: ChatContext,
  caller: Caller,
  input: unknown,
  res: ServerResponse,
): Promise<void> {
  const body = parseInput(chatBody, input ?? {});
  assertMessageSizes(
    body.messages.map((m, i) => ({
      path: `body.messages.${i}.content`,
      role: m.role,
      length: textLength(m.content),
    })),
    ctx.config.MAX_MESSAGE_CHARS,
  );
  const controller = new AbortController();
  // Nothing is kept for /v1 calls, so a client that leaves takes the generation with it.
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new AppError('client_closed_request'));
  });
  // Images are read (and refused) before admission, so a refused request holds no slot or budget.
  const request = await toOllamaChat(body, imageLoader(ctx, controller.signal));
  // OpenAI's `parallel_tool_calls: false` allows one call per answer: later ones are dropped.
  const maxCalls = body.parallel_tool_calls === false ? 1 : Infinity;
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const wanted = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const admission = await admitGeneration(ctx, caller, body.model, { wanted, slotId: id });
  // Under a budget, no more than was reserved: generation stops when the reservation is spent.
  if (admission.maxTokens !== null)
    request.options = { ...request.options, num_predict: admission.maxTokens };
  const created = Math.floor(Date.now() / 1000);
  let completionTokens = 0;
  let promptTokens = 0;
  const asked = performance.now();
  let first = true;
  const firstToken = () => {
    if (!first) return;
    first = false;
    ctx.metrics.timeToFirstToken.observe(
      { model: ctx.metrics.models.label(body.model), api: 'v1' },
      (performance.now() - asked) / 1000,
    );
  };
  try {
    if (body.stream) {
      await streamCompletion(
        res,
        {
          id,
          created,
          model: body.model,
          includeUsage: body.stream_options?.include_usage === true,
          gauge: ctx.metrics.openStreams.labels({ api: 'v1' }),
          maxCalls,
        },
        async (onToken, events) => {
          const done = await ctx.gateway.chat(
            request,
            (text) => {
              firstToken();
              completionTokens += 1;
              onToken(text);
            },
            controller.signal,
            {
              thinking: (text) => {
                firstToken();
                events.thinking?.(text);
              },
              toolCalls: (calls) => {
                firstToken();
                events.toolCalls?.(calls);
              },
            },
          );
          completionTokens = done.completionTokens ?? completionTokens;
          promptTokens = done.promptTokens ?? 0;
          return done;
        },
      );
    } else {
      let text = '';
      let reasoning = '';
      const toolCalls: OpenAiToolCall[] = [];
      const done = await ctx.gateway.chat(
        request,
        (piece) => {
          firstToken();
          completionTokens += 1;
          text += piece;
        },
        controller.signal,
        {
          thinking: (piece) => {
            firstToken();
            reasoning += piece;
          },
          toolCalls: (calls) => {
            firstToken();
            for (const call of calls) if (toolCalls.length < maxCalls) toolCalls.push(openAiToolCall(call));
          },
        },
      );
      completionTokens = done.completionTokens ?? completionTokens;
      promptTokens = done.promptTokens ?? 0;
      const message: Record<string, unknown> = { role: 'assistant', content: text };
      if (reasoning !== '') message.reasoning = reasoning;
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      sendJson(res, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        system_fingerprint: 'corral',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(done, toolCalls.length) }],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      });
    }
  } finally {
    finishGeneration(ctx, caller, admission, body.model, { promptTokens, completionTokens });
  }
}

/** The text a message carries (its text parts), as the message-size limit counts it. */
function textLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  return content.reduce<number>(
    (sum, part: { text?: unknown }) => sum + (typeof part.text === 'string' ? part.text.length : 0),
    0,
  );
}

export function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

interface ChunkMeta {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  gauge: OpenStreamGauge;
  /** Tool calls passed on at most (1 for `parallel_tool_calls: false`). */
  maxCalls: number;
}

/**
 * `chat.completion.chunk` events ending with `data: [DONE]`. A failure before the first byte is
 * an ordinary error answer; after it, an error object goes down the stream (as OpenAI does).
 */
async function streamCompletion(
  res: ServerResponse,
  meta: ChunkMeta,
  generate: (onToken: (text: string) => void, events: ChatEvents) => Promise<ChatDone>,
): Promise<void> {
  let stream: ReturnType<typeof openEventStream> | undefined;
  // Per token only the text is serialised: the same JSON as stringifying the whole chunk object.
  const head = `{"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"system_fingerprint":"corral","choices":[{"index":0,"delta":`;
  const tail = (finish: string | null) =>
    `,"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]${meta.includeUsage ? ',"usage":null' : ''}}`;
  const tokenTail = tail(null);
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `${head}${JSON.stringify(delta)}${tail(finish)}`;
  const open = () => {
    if (!stream) {
      stream = openEventStream(res, meta.gauge);
      stream.data(chunk({ role: 'assistant', content: '' }, null));
    }
    return stream;
  };
  try {
    // Each call gets its own index: a first delta with its id, type and name, then its arguments.
    let calls = 0;
    const done = await generate(
      (text) => open().data(`${head}{"content":${JSON.stringify(text)}}${tokenTail}`),
      {
        thinking: (text) => open().data(`${head}{"reasoning":${JSON.stringify(text)}}${tokenTail}`),
        toolCalls: (received) => {
          for (const call of received) {
            if (calls >= meta.maxCalls) return;
            const index = calls++;
            const { id, type, function: fn } = openAiToolCall(call);
            const out = open();
            out.data(
              chunk({ tool_calls: [{ index, id, type, function: { name: fn.name, arguments: '' } }] }, null),
            );
            out.data(chunk({ tool_calls: [{ index, function: { arguments: fn.arguments } }] }, null));
          }
        },
      },
    );
    const out = open();
    out.data(chunk({}, finishReason(done, calls)));
    if (meta.includeUsage) {
      const prompt = done.promptTokens ?? 0;
      const completion = done.completionTokens ?? 0;
      out.data(
        JSON.stringify({
          id: meta.id,
          object: 'chat.completion.chunk',
          created: meta.created,
          model: meta.model,
          system_fingerprint: 'corral',
          choices: [],
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
        }),
      );
    }
    out.data('[DONE]');
    out.end();
  } catch (error) {
    if (!stream) throw error;
    stream.data(JSON.stringify(openAiError(toAppError(error))));
    stream.end();
  }
}
