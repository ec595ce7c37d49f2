import type { ServerResponse } from 'node:http';
import { runGeneration, type DoneTimings, type GenerationWriter } from './engine.js';
import {
  contentText,
  contextIds,
  countPromptTokens,
  lastUserMessage,
  simulatedEmbedding,
  simulatedReply,
  type SimReply,
} from './generator.js';
import { SimHttpError, nowIso, optionalNumber, requireString, sendJson, sendText } from './http-util.js';
import { modelDetails, parseKeepAlive, type SimModel } from './models.js';
import { pullModel } from './pull.js';
import {
  BUSY_MESSAGE,
  embeddingDimensions,
  embeddingInputs,
  objectField,
  withSlot,
  type RouteContext,
  type RouteTable,
} from './routes.js';

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
}

function setUpGeneration(ctx: RouteContext, capability: 'chat' | 'generate'): GenerationSetup {
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  if (model.kind === 'embedding')
    throw new SimHttpError(400, `${JSON.stringify(modelName)} does not support ${capability}`);
  const keepAliveMs = parseKeepAlive(ctx.body.keep_alive);
  ctx.rt.models.touch(model, keepAliveMs);
  return {
    modelName,
    model,
    stream: ctx.body.stream !== false,
    keepAliveMs,
    options: objectField(ctx.body, 'options'),
  };
}

function replyFor(ctx: RouteContext, setup: GenerationSetup, prompt: string): SimReply {
  return simulatedReply({
    model: setup.modelName,
    prompt,
    seed: optionalNumber(setup.options.seed) ?? ctx.rt.tunables.seed,
    numPredict: optionalNumber(setup.options.num_predict),
    format: ctx.body.format,
    responseTokens: ctx.rt.tunables.responseTokens,
  });
}

function startOrBusy(ctx: RouteContext, reply: SimReply, writer: GenerationWriter): void {
  const plan = { reply, receivedAt: ctx.receivedAt, dropAfterTokens: ctx.dropAfterTokens };
  if (!runGeneration(ctx.rt, ctx.res, plan, writer)) throw new SimHttpError(503, BUSY_MESSAGE);
}

function handleChat(ctx: RouteContext): void {
  const setup = setUpGeneration(ctx, 'chat');
  const messages = ctx.body.messages ?? [];
  if (!Array.isArray(messages)) throw new SimHttpError(400, 'messages must be an array');
  const { res } = ctx;
  const modelJson = JSON.stringify(setup.modelName);
  if (messages.length === 0) {
    return sendJson(res, 200, {
      model: setup.modelName,
      created_at: nowIso(),
      message: { role: 'assistant', content: '' },
      done_reason: setup.keepAliveMs === 0 ? 'unload' : 'load',
      done: true,
    });
  }
  const typed = messages as Array<{ role?: unknown; content?: unknown }>;
  const reply = replyFor(ctx, setup, lastUserMessage(typed));
  const promptEvalCount = countPromptTokens(typed.map((m) => contentText(m?.content)).join('\n'));
  const final = (timings: DoneTimings, content: string): Record<string, unknown> => ({
    model: setup.modelName,
    created_at: nowIso(),
    message: { role: 'assistant', content },
    done_reason: reply.doneReason,
    done: true,
    ...timings,
    prompt_eval_count: promptEvalCount,
    eval_count: reply.evalCount,
  });
  const writer: GenerationWriter = setup.stream
    ? {
        token(piece) {
          writeNdjsonHead(res);
          res.write(
            `{"model":${modelJson},"created_at":"${nowIso()}","message":{"role":"assistant","content":${JSON.stringify(piece)}},"done":false}\n`,
          );
        },
        done(timings) {
          writeNdjsonHead(res);
          res.end(`${JSON.stringify(final(timings, ''))}\n`);
        },
      }
    : { token() {}, done: (timings) => sendJson(res, 200, final(timings, reply.text)) };
  startOrBusy(ctx, reply, writer);
}

function handleGenerate(ctx: RouteContext): void {
  const setup = setUpGeneration(ctx, 'generate');
  const prompt = typeof ctx.body.prompt === 'string' ? ctx.body.prompt : '';
  const { res } = ctx;
  if (prompt === '') {
    return sendJson(res, 200, {
      model: setup.modelName,
      created_at: nowIso(),
      response: '',
      done: true,
      done_reason: setup.keepAliveMs === 0 ? 'unload' : 'load',
    });
  }
  const reply = replyFor(ctx, setup, prompt);
  const promptEvalCount = countPromptTokens(prompt);
  const modelJson = JSON.stringify(setup.modelName);
  const final = (timings: DoneTimings, response: string): Record<string, unknown> => ({
    model: setup.modelName,
    created_at: nowIso(),
    response,
    done: true,
    done_reason: reply.doneReason,
    ...(ctx.body.raw === true ? {} : { context: contextIds(prompt, reply, promptEvalCount) }),
    ...timings,
    prompt_eval_count: promptEvalCount,
    eval_count: reply.evalCount,
  });
  const writer: GenerationWriter = setup.stream
    ? {
        token(piece) {
          writeNdjsonHead(res);
          res.write(
            `{"model":${modelJson},"created_at":"${nowIso()}","response":${JSON.stringify(piece)},"done":false}\n`,
          );
        },
        done(timings) {
          writeNdjsonHead(res);
          res.end(`${JSON.stringify(final(timings, ''))}\n`);
        },
      }
    : { token() {}, done: (timings) => sendJson(res, 200, final(timings, reply.text)) };
  startOrBusy(ctx, reply, writer);
}

function handleEmbed(ctx: RouteContext): void {
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  const inputs = embeddingInputs(ctx.body.input);
  const dimensions = embeddingDimensions(ctx.body.dimensions, model.embeddingDimension);
  ctx.rt.models.touch(model, parseKeepAlive(ctx.body.keep_alive));
  withSlot(ctx.rt, ctx.res, () => {
    const embeddings = inputs.map((text) => simulatedEmbedding(modelName, text, dimensions));
    const elapsed = Number(process.hrtime.bigint() - ctx.receivedAt);
    sendJson(ctx.res, 200, {
      model: modelName,
      embeddings,
      total_duration: elapsed,
      load_duration: 0,
      prompt_eval_count: inputs.reduce((sum, text) => sum + countPromptTokens(text), 0),
    });
  });
}

function handleLegacyEmbeddings(ctx: RouteContext): void {
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  const prompt = typeof ctx.body.prompt === 'string' ? ctx.body.prompt : '';
  ctx.rt.models.touch(model, parseKeepAlive(ctx.body.keep_alive));
  withSlot(ctx.rt, ctx.res, () => {
    const embedding = prompt === '' ? [] : simulatedEmbedding(modelName, prompt, model.embeddingDimension);
    sendJson(ctx.res, 200, { embedding });
  });
}

function tagEntry(model: SimModel): Record<string, unknown> {
  return {
    name: model.name,
    model: model.name,
    modified_at: model.modifiedAt,
    size: model.size,
    digest: model.digest,
    details: modelDetails(model),
  };
}

function handleShow(ctx: RouteContext): void {
  const name = typeof ctx.body.model === 'string' ? ctx.body.model : ctx.body.name;
  if (typeof name !== 'string' || name.trim() === '') throw new SimHttpError(400, 'model is required');
  const model = ctx.rt.models.find(name);
  if (!model) throw new SimHttpError(404, `model '${name}' not found`);
  const contextLength = 4096;
  sendJson(ctx.res, 200, {
    license: 'ollama-sim: simulated model, no weights, no license',
    modelfile: `# ollama-sim: a simulated model, not real weights\nFROM sim/${model.name}\n`,
    parameters: `num_ctx                        ${contextLength}`,
    template: '{{ .Prompt }}',
    details: modelDetails(model),
    model_info: {
      'general.architecture': 'sim',
      'general.basename': 'ollama-sim',
      'general.parameter_count': model.size,
      'sim.context_length': contextLength,
      'sim.embedding_length': model.embeddingDimension,
    },
    capabilities: model.kind === 'embedding' ? ['embedding'] : ['completion'],
    modified_at: model.modifiedAt,
  });
}

function handlePs(ctx: RouteContext): void {
  const models = ctx.rt.models.loaded().map(({ model, expiresAt }) => ({
    ...tagEntry(model),
    expires_at: new Date(Number.isFinite(expiresAt) ? expiresAt : Date.UTC(2318, 0, 1)).toISOString(),
    size_vram: model.size,
    context_length: 4096,
  }));
  sendJson(ctx.res, 200, { models });
}

export const ollamaRoutes: RouteTable = {
  'GET /': { handle: ({ res }) => sendText(res, 200, 'Ollama is running') },
  'HEAD /': { handle: ({ res }) => sendText(res, 200, 'Ollama is running', true) },
  'GET /api/version': { handle: ({ rt, res }) => sendJson(res, 200, { version: rt.version }) },
  'POST /api/chat': { generation: true, jsonBody: true, handle: handleChat },
  'POST /api/generate': { generation: true, jsonBody: true, handle: handleGenerate },
  'POST /api/embed': { jsonBody: true, handle: handleEmbed },
  'POST /api/embeddings': { jsonBody: true, handle: handleLegacyEmbeddings },
  'GET /api/tags': {
    handle: ({ rt, res }) => sendJson(res, 200, { models: rt.models.list().map(tagEntry) }),
  },
  'GET /api/ps': { handle: handlePs },
  'POST /api/show': { jsonBody: true, handle: handleShow },
  'POST /api/pull': { jsonBody: true, handle: pullModel },
};
