import { randomUUID } from 'node:crypto';
import { AppError, parseInput, toAppError } from '@corral/service-kit';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import type { ChatDone, ChatTurn } from '../domain/gateway.js';
import { admitGeneration } from '../domain/admission.js';
import { visibleModels } from '../domain/models.js';
import { recordUsage } from '../domain/usage.js';
import { apiKeyIdOf, principal } from './principal.js';
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

const embeddingsBody = z.object({
  model: z.string().min(1).max(200),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
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

/** OpenAI's error body; the status picks the SDK's exception class (400, 401, 403, 404, 429, 5xx). */
function openAiError(error: AppError) {
  const type =
    error.status === 401
      ? 'authentication_error'
      : error.status === 403
        ? 'permission_error'
        : error.code === 'quota_exceeded'
          ? 'insufficient_quota'
          : error.status === 429
            ? 'rate_limit_error'
            : error.status >= 500
              ? 'server_error'
              : 'invalid_request_error';
  const code =
    error.status === 401
      ? 'invalid_api_key'
      : error.code === 'rate_limited'
        ? 'rate_limit_exceeded'
        : error.code === 'quota_exceeded'
          ? 'insufficient_quota'
          : error.code;
  return { error: { message: error.message, type, param: null, code } };
}

/**
 * Answers any error under /v1 in OpenAI's shape, so the SDKs raise the right exception class — also
 * errors raised before the router runs (malformed JSON, 413). Passed to service-kit's createHttpApp.
 */
export function renderOpenAiError(error: AppError, req: Request, res: Response): boolean {
  if (!req.path.startsWith('/v1/') && req.path !== '/v1') return false;
  res.status(error.status).set(error.headers).json(openAiError(error));
  return true;
}

/** The OpenAI-compatible API: chat completions (stream and not), models, embeddings. */
export function openAiRoutes(ctx: ChatContext, guard: RequestHandler[]): Router {
  const router = Router();
  router.use(...guard);

  router.get('/models', async (req, res) => {
    const models = await visibleModels(ctx, principal(req));
    res.json({
      object: 'list',
      data: models.map((model) => ({
        id: model.name,
        object: 'model',
        created: Math.floor(Date.parse(model.modified_at ?? '') / 1000) || 0,
        owned_by: 'corral',
      })),
    });
  });

  router.post('/chat/completions', async (req, res) => {
    const body = parseInput(chatBody, req.body ?? {});
    const caller = principal(req);
    const limits = await admitGeneration(ctx, caller, body.model);
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const slot = await ctx.slots.acquire(caller.userId, id, limits.maxConcurrentStreams);
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
        { model: body.model, api: 'v1' },
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
              { model: body.model, messages, options: ollamaOptions(body) },
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
          { model: body.model, messages, options: ollamaOptions(body) },
          (piece) => {
            if (completionTokens === 0) firstToken();
            completionTokens += 1;
            text += piece;
          },
          controller.signal,
        );
        completionTokens = done.completionTokens ?? completionTokens;
        promptTokens = done.promptTokens ?? 0;
        res.json({
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
      ctx.metrics.tokens.inc({ direction: 'in', model: body.model }, promptTokens);
      ctx.metrics.tokens.inc({ direction: 'out', model: body.model }, completionTokens);
      await recordUsage(ctx.db, {
        userId: caller.userId,
        apiKeyId: apiKeyIdOf(caller),
        model: body.model,
        promptTokens,
        completionTokens,
      }).catch((error: unknown) => ctx.logger.error('could not record usage', { error }));
    }
  });

  router.post('/embeddings', async (req, res) => {
    const body = parseInput(embeddingsBody, req.body ?? {});
    const caller = principal(req);
    await admitGeneration(ctx, caller, body.model);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const { embeddings, promptTokens } = await ctx.gateway.embed(body.model, inputs, body.dimensions);
    ctx.metrics.tokens.inc({ direction: 'in', model: body.model }, promptTokens);
    await recordUsage(ctx.db, {
      userId: caller.userId,
      apiKeyId: apiKeyIdOf(caller),
      model: body.model,
      promptTokens,
      completionTokens: 0,
    }).catch((error: unknown) => ctx.logger.error('could not record usage', { error }));
    res.json({
      object: 'list',
      data: embeddings.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding:
          body.encoding_format === 'base64'
            ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
            : vector,
      })),
      model: body.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  });

  router.use((req, _res, next) => {
    next(
      new AppError('route_not_found', `No route for ${req.method} ${req.baseUrl}${req.path.slice(0, 200)}`),
    );
  });
  return router;
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
  res: Response,
  meta: ChunkMeta,
  generate: (onToken: (text: string) => void) => Promise<ChatDone>,
): Promise<void> {
  let stream: ReturnType<typeof openEventStream> | undefined;
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    JSON.stringify({
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      system_fingerprint: 'corral',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(meta.includeUsage ? { usage: null } : {}),
    });
  const open = () => {
    if (!stream) {
      stream = openEventStream(res, meta.gauge);
      stream.data(chunk({ role: 'assistant', content: '' }, null));
    }
    return stream;
  };
  try {
    const done = await generate((text) => open().data(chunk({ content: text }, null)));
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
