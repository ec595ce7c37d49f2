import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AppError, type DirectRoute, parseInput, toAppError } from '@corral/service-kit';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { admitGeneration, type Caller } from '../domain/admission.js';
import { assertMessageSizes } from '../domain/message-size.js';
import type { ChatDone } from '../domain/gateway.js';
import { sendJson, v1Route } from './chat-completions.js';
import { ollamaOptions, paramError, samplingFields } from './openai-chat-request.js';
import { openAiError } from './openai-errors.js';
import { openEventStream } from './sse.js';
import { finishGeneration } from './v1-generation.js';

const completionsBody = z.object({
  model: z.string().min(1).max(200),
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  suffix: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  ...samplingFields,
  n: z.number().int().min(1).nullable().optional(),
  best_of: z.number().int().min(1).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  user: z.string().optional(),
});

type CompletionsBody = z.infer<typeof completionsBody>;

/** The one prompt Ollama's `/api/generate` takes; what it cannot do is a 400 naming the parameter. */
function promptOf(body: CompletionsBody): string {
  if (Array.isArray(body.prompt) && body.prompt.length > 1)
    throw paramError('prompt', 'only one prompt per request is supported.');
  if (body.n != null && body.n > 1) throw paramError('n', 'only one choice (n = 1) is supported.');
  if (body.best_of != null && body.best_of > 1) throw paramError('best_of', 'best_of > 1 is not supported.');
  if (body.echo === true) throw paramError('echo', 'echo is not supported.');
  if (body.logprobs != null) throw paramError('logprobs', 'log probabilities are not supported.');
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0)
    throw paramError('logit_bias', 'logit bias is not supported.');
  return typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!;
}

const finish = (done: ChatDone) => (done.doneReason === 'length' ? 'length' : 'stop');

/** `POST /v1/completions` (legacy text completions) onto Ollama's `/api/generate`. */
export function completionsRoute(ctx: ChatContext): DirectRoute {
  return v1Route(ctx, '/v1/completions', complete);
}

async function complete(
  ctx: ChatContext,
  caller: Caller,
  input: unknown,
  res: ServerResponse,
): Promise<void> {
  const body = parseInput(completionsBody, input ?? {});
  const prompt = promptOf(body);
  assertMessageSizes(
    [{ path: 'body.prompt', role: 'user', length: prompt.length }],
    ctx.config.MAX_MESSAGE_CHARS,
  );
  const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
  const admission = await admitGeneration(ctx, caller, body.model, {
    wanted: body.max_tokens ?? undefined,
    slotId: id,
  });
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new AppError('client_closed_request'));
  });
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: 'text_completion', created, model: body.model, system_fingerprint: 'corral' };
  const request = {
    model: body.model,
    prompt,
    ...(body.suffix ? { suffix: body.suffix } : {}),
    // Under a budget, no more than was reserved: generation stops when the reservation is spent.
    options: {
      ...ollamaOptions(body),
      ...(admission.maxTokens !== null ? { num_predict: admission.maxTokens } : {}),
    },
  };
  let promptTokens = 0;
  let completionTokens = 0;
  const usage = () => ({
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  });
  const choice = (text: string, reason: string | null) => ({
    text,
    index: 0,
    logprobs: null,
    finish_reason: reason,
  });
  try {
    if (body.stream) {
      let stream: ReturnType<typeof openEventStream> | undefined;
      const open = () => (stream ??= openEventStream(res, ctx.metrics.openStreams.labels({ api: 'v1' })));
      try {
        const done = await ctx.gateway.generate(
          request,
          (text) => {
            completionTokens += 1;
            open().data(JSON.stringify({ ...base, choices: [choice(text, null)] }));
          },
          controller.signal,
        );
        promptTokens = done.promptTokens ?? 0;
        completionTokens = done.completionTokens ?? completionTokens;
        const out = open();
        out.data(JSON.stringify({ ...base, choices: [choice('', finish(done))] }));
        if (body.stream_options?.include_usage === true)
          out.data(JSON.stringify({ ...base, choices: [], usage: usage() }));
        out.data('[DONE]');
        out.end();
      } catch (error) {
        if (!stream) throw error;
        stream.data(JSON.stringify(openAiError(toAppError(error))));
        stream.end();
      }
    } else {
      let text = '';
      const done = await ctx.gateway.generate(
        request,
        (piece) => {
          completionTokens += 1;
          text += piece;
        },
        controller.signal,
      );
      promptTokens = done.promptTokens ?? 0;
      completionTokens = done.completionTokens ?? completionTokens;
      sendJson(res, { ...base, choices: [choice(text, finish(done))], usage: usage() });
    }
  } finally {
    finishGeneration(ctx, caller, admission, body.model, { promptTokens, completionTokens });
  }
}
