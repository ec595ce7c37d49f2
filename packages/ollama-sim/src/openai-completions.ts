import { runGeneration, type DoneTimings, type GenerationWriter } from './engine.js';
import { checkCapabilities, resolveThink } from './features.js';
import { countPromptTokens } from './generator.js';
import { SimHttpError, optionalNumber, requireString, sendJson } from './http-util.js';
import { simulatedChatReply } from './reply.js';
import { BUSY_MESSAGE, objectField, type RouteContext } from './routes.js';

let completionCounter = 0;

function goJsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'number' ? 'number' : 'object';
}

/**
 * POST /v1/completions, as Ollama's OpenAI layer maps it onto /api/generate: `text_completion`
 * objects, the reply text only (a thinking model's reasoning is not part of it), usage at the end.
 */
export function handleCompletions(ctx: RouteContext): void {
  const { rt, res, body } = ctx;
  const prompt = body.prompt ?? '';
  if (typeof prompt !== 'string') {
    throw new SimHttpError(
      400,
      `json: cannot unmarshal ${goJsonKind(prompt)} into Go struct field CompletionRequest.prompt of type string`,
    );
  }
  const modelName = requireString(body, 'model');
  const model = rt.requireModel(modelName);
  checkCapabilities(modelName, model, 'generate', []);
  const reply = simulatedChatReply({
    model: modelName,
    capabilities: model.capabilities,
    messages: [{ role: 'user', content: prompt }],
    think: resolveThink(modelName, model.capabilities, undefined),
    imageCount: 0,
    seed: optionalNumber(body.seed) ?? rt.tunables.seed,
    numPredict: optionalNumber(body.max_tokens),
    responseTokens: rt.tunables.responseTokens,
  });
  const id = `cmpl-${++completionCounter}`;
  const created = Math.floor(Date.now() / 1000);
  const finishReason = reply.doneReason;
  const usageOf = (timings: DoneTimings) => ({
    prompt_tokens: timings.prompt_eval_count,
    completion_tokens: reply.evalCount,
    total_tokens: timings.prompt_eval_count + reply.evalCount,
  });
  const head = { id, object: 'text_completion', created, model: modelName, system_fingerprint: 'fp_ollama' };
  let writer: GenerationWriter;
  if (body.stream === true) {
    const includeUsage = objectField(body, 'stream_options').include_usage === true;
    const send = (chunk: object): void => {
      if (!res.headersSent)
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    writer = {
      token: (text) => send({ ...head, choices: [{ text, index: 0, finish_reason: null }] }),
      done(timings) {
        send({ ...head, choices: [{ text: '', index: 0, finish_reason: finishReason }] });
        if (includeUsage) send({ ...head, choices: [], usage: usageOf(timings) });
        res.end('data: [DONE]\n\n');
      },
    };
  } else {
    writer = {
      token() {},
      done: (timings) =>
        sendJson(res, 200, {
          ...head,
          choices: [{ text: reply.text, index: 0, finish_reason: finishReason }],
          usage: usageOf(timings),
        }),
    };
  }
  const plan = {
    model,
    reply,
    keepAliveMs: rt.tunables.keepAliveMs,
    promptTokens: countPromptTokens(prompt),
    cacheText: prompt,
    cacheTextAfter: prompt + reply.text,
    receivedAt: ctx.receivedAt,
    dropAfterTokens: ctx.dropAfterTokens,
  };
  if (!runGeneration(rt, res, plan, writer)) throw new SimHttpError(503, BUSY_MESSAGE);
}
