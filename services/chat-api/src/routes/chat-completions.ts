import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  AppError,
  type DirectRoute,
  byteSize,
  parseInput,
  readJsonBody,
  setRequestUser,
  toAppError,
} from '@corral/service-kit';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { admitGeneration, admitRequest, type Caller } from '../domain/admission.js';
import type { ChatDone, ChatTurn } from '../domain/gateway.js';
import { assertMessageSizes } from '../domain/message-size.js';
import { openAiError, sendOpenAiError } from './openai-errors.js';
import { apiKeyIdOf } from './principal.js';
import { type OpenStreamGauge, openEventStream } from './sse.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const messageContent = z.union([
  z.string(),
  z.array(z.union([textPart, z.looseObject({ type: z.string() })])),
]);

const chatBody = z.object({
  model: z.string().min(1).max(200),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: messageContent.nullable().optional(),
      }),
    )
    .min(1),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  n: z.literal(1).nullable().optional(),
  user: z.string().optional(),
});

function textOf(content: z.infer<typeof messageContent> | null | undefined): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' && 'text' in part ? String(part.text) : '')).join('');
}

function ollamaOptions(body: z.infer<typeof chatBody>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (body.temperature != null) options.temperature = body.temperature;
  if (body.top_p != null) options.top_p = body.top_p;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) options.num_predict = maxTokens;
  if (body.stop != null) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.seed != null) options.seed = body.seed;
  return options;
}

const finishReason = (done: ChatDone): 'stop' | 'length' =>
  done.doneReason === 'length' ? 'length' : 'stop';

/**
 * `POST /v1/chat/completions`, its one entry point: a service-kit direct route, answered before
 * express (whose routing is a large share of a short completion's cost) with the same steps as an
 * express route — JSON body (BODY_LIMIT, compressed or not), credentials, rate limit, CORS — and
 * errors in OpenAI's shape.
 */
export function chatCompletionsRoute(ctx: ChatContext): DirectRoute {
  const limit = byteSize(ctx.config.BODY_LIMIT);
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    renderError: sendOpenAiError,
    handle: async (req, res) => {
      const body = await readJsonBody(req, { limit });
      const authenticated = await ctx.auth.authenticate(req.headers.authorization);
      setRequestUser(authenticated.userId);
      const { caller, headers: limitHeaders } = await admitRequest(ctx, authenticated);
      for (const [name, value] of Object.entries(limitHeaders)) res.setHeader(name, value);
      await completeChat(ctx, caller, body, res);
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
      length: textOf(m.content).length,
    })),
    ctx.config.MAX_MESSAGE_CHARS,
  );
  const wanted = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const admission = await admitGeneration(ctx, caller, body.model, { wanted, slotId: id });
  const { slot } = admission;
  // Under a budget, no more than was reserved: generation stops when the reservation is spent.
  const options = ollamaOptions(body);
  if (admission.maxTokens !== null) options.num_predict = admission.maxTokens;
  const messages: ChatTurn[] = body.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role === 'tool' ? 'user' : m.role,
    content: textOf(m.content),
  }));
  const created = Math.floor(Date.now() / 1000);
  const controller = new AbortController();
  // Nothing is kept for /v1 calls, so a client that leaves takes the generation with it.
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new AppError('client_closed_request'));
  });
  let completionTokens = 0;
  let promptTokens = 0;
  const asked = performance.now();
  const firstToken = () =>
    ctx.metrics.timeToFirstToken.observe(
      { model: ctx.metrics.models.label(body.model), api: 'v1' },
      (performance.now() - asked) / 1000,
    );
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
        },
        async (onToken) => {
          const done = await ctx.gateway.chat(
            { model: body.model, messages, options },
            (text) => {
              if (completionTokens === 0) firstToken();
              completionTokens += 1;
              onToken(text);
            },
            controller.signal,
          );
          completionTokens = done.completionTokens ?? completionTokens;
          promptTokens = done.promptTokens ?? 0;
          return done;
        },
      );
    } else {
      let text = '';
      const done = await ctx.gateway.chat(
        { model: body.model, messages, options },
        (piece) => {
          if (completionTokens === 0) firstToken();
          completionTokens += 1;
          text += piece;
        },
        controller.signal,
      );
      completionTokens = done.completionTokens ?? completionTokens;
      promptTokens = done.promptTokens ?? 0;
      sendJson(res, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        system_fingerprint: 'corral',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text },
            logprobs: null,
            finish_reason: finishReason(done),
          },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      });
    }
  } finally {
    slot.release();
    ctx.metrics.tokens.inc({ direction: 'in', model: ctx.metrics.models.label(body.model) }, promptTokens);
    ctx.metrics.tokens.inc(
      { direction: 'out', model: ctx.metrics.models.label(body.model) },
      completionTokens,
    );
    ctx.usage.record({
      userId: caller.userId,
      apiKeyId: apiKeyIdOf(caller),
      model: body.model,
      promptTokens,
      completionTokens,
    });
    // Recorded (visible to this replica's budget checks at once): the reservation gives way to it.
    admission.settle();
  }
}

function sendJson(res: ServerResponse, body: unknown): void {
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
}

/**
 * `chat.completion.chunk` events ending with `data: [DONE]`. A failure before the first byte is
 * an ordinary error answer; after it, an error object goes down the stream (as OpenAI does).
 */
async function streamCompletion(
  res: ServerResponse,
  meta: ChunkMeta,
  generate: (onToken: (text: string) => void) => Promise<ChatDone>,
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
    const done = await generate((text) =>
      open().data(`${head}{"content":${JSON.stringify(text)}}${tokenTail}`),
    );
    const out = open();
    out.data(chunk({}, finishReason(done)));
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
