import type { ServerResponse } from 'node:http';
import { runGeneration, type DoneTimings, type GenerationPlan, type GenerationWriter } from './engine.js';
import {
  cacheTextAfterReply,
  chatCacheText,
  chatImageCount,
  checkCapabilities,
  checkImageBytes,
  parseThink,
  parseTools,
  resolveThink,
} from './features.js';
import { contentText, contextIds, countPromptTokens } from './generator.js';
import { SimHttpError, nowIso, optionalNumber, requireString, sendJson } from './http-util.js';
import { decodeImages } from './images.js';
import { parseKeepAlive, type SimModel } from './models.js';
import {
  simulatedChatReply,
  type ChatMessageLike,
  type SimChatReply,
  type ToolDeclaration,
} from './reply.js';
import type { RunnerError } from './features.js';
import { BUSY_MESSAGE, objectField, type RouteContext } from './routes.js';

const NDJSON_HEADERS = { 'Content-Type': 'application/x-ndjson' };

function writeNdjsonHead(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, NDJSON_HEADERS);
}

interface GenerationSetup {
  modelName: string;
  model: SimModel;
  stream: boolean;
  keepAliveMs: number;
  options: Record<string, unknown>;
  think: boolean;
  tools: ToolDeclaration[];
}

// In Ollama's order: the body's images are decoded with the JSON (400), then the model is looked up
// (404), then `think` and the capabilities are checked (400).
function setUpGeneration(ctx: RouteContext, capability: 'chat' | 'generate'): GenerationSetup {
  parseThink(ctx.body.think);
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  const tools = capability === 'chat' ? parseTools(ctx.body.tools) : [];
  const think = resolveThink(modelName, model.capabilities, ctx.body.think);
  checkCapabilities(modelName, model, capability, tools);
  return {
    modelName,
    model,
    stream: ctx.body.stream !== false,
    keepAliveMs: parseKeepAlive(ctx.body.keep_alive, ctx.rt.tunables.keepAliveMs),
    options: objectField(ctx.body, 'options'),
    think,
    tools,
  };
}

/** An empty chat/generate loads the model (or, with keep_alive 0, unloads it) and says which. */
function loadOrUnload(ctx: RouteContext, setup: GenerationSetup, answer: (reason: string) => object): void {
  if (setup.keepAliveMs === 0) {
    ctx.rt.scheduler.unload(setup.model);
    return sendJson(ctx.res, 200, answer('unload'));
  }
  ctx.rt.scheduler.preload(setup.model, setup.keepAliveMs, () => {
    if (!ctx.res.destroyed) sendJson(ctx.res, 200, answer('load'));
  });
}

/** What a runner error looks like: 500, or an `{"error"}` line once a stream was promised. */
function sendRunnerError(ctx: RouteContext, stream: boolean, error: RunnerError): void {
  if (!stream) return sendJson(ctx.res, 500, { error: error.message });
  writeNdjsonHead(ctx.res);
  ctx.res.end(`${JSON.stringify({ error: error.message })}\n`);
}

function replyFor(
  ctx: RouteContext,
  setup: GenerationSetup,
  messages: ChatMessageLike[],
  imageCount: number,
): SimChatReply {
  return simulatedChatReply({
    model: setup.modelName,
    capabilities: setup.model.capabilities,
    messages,
    tools: setup.tools,
    think: setup.think,
    format: ctx.body.format ?? undefined,
    imageCount,
    seed: optionalNumber(setup.options.seed) ?? ctx.rt.tunables.seed,
    numPredict: optionalNumber(setup.options.num_predict),
    responseTokens: ctx.rt.tunables.responseTokens,
  });
}

function start(ctx: RouteContext, plan: Omit<GenerationPlan, 'receivedAt'>, writer: GenerationWriter): void {
  const full = { ...plan, receivedAt: ctx.receivedAt, dropAfterTokens: ctx.dropAfterTokens };
  if (!runGeneration(ctx.rt, ctx.res, full, writer)) throw new SimHttpError(503, BUSY_MESSAGE);
}

function finalMetrics(timings: DoneTimings, reply: SimChatReply): Record<string, unknown> {
  return {
    done_reason: reply.doneReason,
    done: true,
    total_duration: timings.total_duration,
    load_duration: timings.load_duration,
    prompt_eval_count: timings.prompt_eval_count,
    prompt_eval_duration: timings.prompt_eval_duration,
    eval_count: reply.evalCount,
    eval_duration: timings.eval_duration,
  };
}

export function handleChat(ctx: RouteContext): void {
  const messages = ctx.body.messages ?? [];
  if (!Array.isArray(messages)) throw new SimHttpError(400, 'messages must be an array');
  const typed = messages as ChatMessageLike[];
  const images = chatImageCount(typed);
  const setup = setUpGeneration(ctx, 'chat');
  const { res } = ctx;
  const head = (): Record<string, unknown> => ({ model: setup.modelName, created_at: nowIso() });
  if (typed.length === 0) {
    return loadOrUnload(ctx, setup, (reason) => ({
      ...head(),
      message: { role: 'assistant', content: '' },
      done_reason: reason,
      done: true,
    }));
  }
  ctx.rt.recordChat(setup.modelName, typed, setup.options);
  const imageError = checkImageBytes(setup.model, images);
  if (imageError) return sendRunnerError(ctx, setup.stream, imageError);

  const reply = replyFor(ctx, setup, typed, images.length);
  const cacheText = chatCacheText(typed);
  const answer = { role: 'assistant', content: reply.text, tool_calls: reply.toolCalls };
  const modelJson = JSON.stringify(setup.modelName);
  const chunk = (message: string): string =>
    `{"model":${modelJson},"created_at":"${nowIso()}","message":${message},"done":false}\n`;
  const writer: GenerationWriter = setup.stream
    ? {
        token(piece) {
          writeNdjsonHead(res);
          res.write(chunk(`{"role":"assistant","content":${JSON.stringify(piece)}}`));
        },
        thinking(piece) {
          writeNdjsonHead(res);
          res.write(chunk(`{"role":"assistant","content":"","thinking":${JSON.stringify(piece)}}`));
        },
        toolCalls(calls) {
          writeNdjsonHead(res);
          res.write(chunk(JSON.stringify({ role: 'assistant', content: '', tool_calls: calls })));
        },
        done(timings) {
          writeNdjsonHead(res);
          const last = {
            ...head(),
            message: { role: 'assistant', content: '' },
            ...finalMetrics(timings, reply),
          };
          res.end(`${JSON.stringify(last)}\n`);
        },
      }
    : {
        token() {},
        done(timings) {
          const message: Record<string, unknown> = { role: 'assistant', content: reply.text };
          if (reply.thinking.length > 0) message.thinking = reply.thinking.join('');
          if (reply.toolCalls.length > 0) message.tool_calls = reply.toolCalls;
          sendJson(res, 200, { ...head(), message, ...finalMetrics(timings, reply) });
        },
      };
  start(
    ctx,
    {
      model: setup.model,
      reply,
      keepAliveMs: setup.keepAliveMs,
      promptTokens: countPromptTokens(typed.map((m) => contentText(m?.content)).join('\n')),
      cacheText,
      cacheTextAfter: cacheTextAfterReply(cacheText, answer),
    },
    writer,
  );
}

export function handleGenerate(ctx: RouteContext): void {
  const images = decodeImages(ctx.body.images);
  const setup = setUpGeneration(ctx, 'generate');
  const prompt = typeof ctx.body.prompt === 'string' ? ctx.body.prompt : '';
  const { res } = ctx;
  const head = (): Record<string, unknown> => ({ model: setup.modelName, created_at: nowIso() });
  if (prompt === '') {
    return loadOrUnload(ctx, setup, (reason) => ({
      ...head(),
      response: '',
      done: true,
      done_reason: reason,
    }));
  }
  const imageError = checkImageBytes(setup.model, images);
  if (imageError) return sendRunnerError(ctx, setup.stream, imageError);

  const reply = replyFor(ctx, setup, [{ role: 'user', content: prompt }], images.length);
  const promptTokens = countPromptTokens(prompt);
  const context = ctx.body.raw === true ? {} : { context: contextIds(prompt, reply, promptTokens) };
  const modelJson = JSON.stringify(setup.modelName);
  const chunk = (fields: string): string =>
    `{"model":${modelJson},"created_at":"${nowIso()}",${fields},"done":false}\n`;
  const writer: GenerationWriter = setup.stream
    ? {
        token(piece) {
          writeNdjsonHead(res);
          res.write(chunk(`"response":${JSON.stringify(piece)}`));
        },
        thinking(piece) {
          writeNdjsonHead(res);
          res.write(chunk(`"response":"","thinking":${JSON.stringify(piece)}`));
        },
        done(timings) {
          writeNdjsonHead(res);
          const last = { ...head(), response: '', ...finalMetrics(timings, reply), ...context };
          res.end(`${JSON.stringify(last)}\n`);
        },
      }
    : {
        token() {},
        done(timings) {
          const thinking = reply.thinking.length > 0 ? { thinking: reply.thinking.join('') } : {};
          sendJson(res, 200, {
            ...head(),
            response: reply.text,
            ...thinking,
            ...finalMetrics(timings, reply),
            ...context,
          });
        },
      };
  const cacheText = prompt;
  start(
    ctx,
    {
      model: setup.model,
      reply,
      keepAliveMs: setup.keepAliveMs,
      promptTokens,
      cacheText,
      cacheTextAfter: cacheText + reply.text,
    },
    writer,
  );
}
