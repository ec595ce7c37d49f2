import { AppError, parseInput } from '@corral/service-kit';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { admitGeneration } from '../domain/admission.js';
import { visibleModels } from '../domain/models.js';
import { sendOpenAiError } from './openai-errors.js';
import { apiKeyIdOf, principal } from './principal.js';

const embeddingsBody = z.object({
  model: z.string().min(1).max(200),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
});

/**
 * Answers any error under /v1 in OpenAI's shape, so the SDKs raise the right exception class — also
 * errors raised before the router runs (malformed JSON, 413). Passed to service-kit's createHttpApp.
 */
export function renderOpenAiError(error: AppError, req: Request, res: Response): boolean {
  if (!req.path.startsWith('/v1/') && req.path !== '/v1') return false;
  sendOpenAiError(res, error, res.locals.requestId as string | undefined);
  return true;
}

/** The OpenAI-compatible API under express: models and embeddings (chat completions: chatCompletionsRoute). */
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

  router.post('/embeddings', async (req, res) => {
    const body = parseInput(embeddingsBody, req.body ?? {});
    const caller = principal(req);
    const admission = await admitGeneration(ctx, caller, body.model);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    let embedded: { embeddings: number[][]; promptTokens: number };
    try {
      embedded = await ctx.gateway.embed(body.model, inputs, body.dimensions);
      ctx.usage.record({
        userId: caller.userId,
        apiKeyId: apiKeyIdOf(caller),
        model: body.model,
        promptTokens: embedded.promptTokens,
        completionTokens: 0,
      });
    } finally {
      admission.settle();
    }
    const { embeddings, promptTokens } = embedded;
    ctx.metrics.tokens.inc({ direction: 'in', model: ctx.metrics.models.label(body.model) }, promptTokens);
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
