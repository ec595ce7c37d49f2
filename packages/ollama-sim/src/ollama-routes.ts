import { countPromptTokens, simulatedEmbedding } from './generator.js';
import { SimHttpError, requireString, sendJson, sendText } from './http-util.js';
import { modelDetails, parseKeepAlive, type SimModel } from './models.js';
import { handleChat, handleGenerate } from './ollama-generation.js';
import { deleteModel, pullModel } from './pull.js';
import {
  embeddingDimensions,
  embeddingInputs,
  withSlot,
  type RouteContext,
  type RouteTable,
} from './routes.js';

function handleEmbed(ctx: RouteContext): void {
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  const inputs = embeddingInputs(ctx.body.input);
  const dimensions = embeddingDimensions(ctx.body.dimensions, model.embeddingDimension);
  const keepAliveMs = parseKeepAlive(ctx.body.keep_alive, ctx.rt.tunables.keepAliveMs);
  withSlot(ctx.rt, ctx.res, model, keepAliveMs, (modelReadyAt) => {
    const embeddings = inputs.map((text) => simulatedEmbedding(modelName, text, dimensions));
    const elapsed = Number(process.hrtime.bigint() - ctx.receivedAt);
    sendJson(ctx.res, 200, {
      model: modelName,
      embeddings,
      total_duration: elapsed,
      load_duration: Math.max(0, Number(modelReadyAt - ctx.receivedAt)),
      prompt_eval_count: inputs.reduce((sum, text) => sum + countPromptTokens(text), 0),
    });
  });
}

function handleLegacyEmbeddings(ctx: RouteContext): void {
  const modelName = requireString(ctx.body, 'model');
  const model = ctx.rt.requireModel(modelName);
  const prompt = typeof ctx.body.prompt === 'string' ? ctx.body.prompt : '';
  const keepAliveMs = parseKeepAlive(ctx.body.keep_alive, ctx.rt.tunables.keepAliveMs);
  withSlot(ctx.rt, ctx.res, model, keepAliveMs, () => {
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

/** The context the simulated runner loads models with (num_ctx), as /api/ps reports it. */
const RUNTIME_NUM_CTX = 4096;

function handleShow(ctx: RouteContext): void {
  const name = typeof ctx.body.model === 'string' ? ctx.body.model : ctx.body.name;
  if (typeof name !== 'string' || name.trim() === '') throw new SimHttpError(400, 'model is required');
  const model = ctx.rt.models.find(name);
  if (!model) throw new SimHttpError(404, `model '${name}' not found`);
  const { contextLength } = model;
  sendJson(ctx.res, 200, {
    license: 'ollama-sim: simulated model, no weights, no license',
    modelfile: `# ollama-sim: a simulated model, not real weights\nFROM sim/${model.name}\n`,
    parameters: `num_ctx                        ${RUNTIME_NUM_CTX}`,
    template: '{{ .Prompt }}',
    details: modelDetails(model),
    model_info: {
      'general.architecture': 'sim',
      'general.basename': 'ollama-sim',
      'general.parameter_count': model.size,
      'sim.context_length': contextLength,
      'sim.embedding_length': model.embeddingDimension,
    },
    capabilities: model.capabilities,
    modified_at: model.modifiedAt,
  });
}

function handlePs(ctx: RouteContext): void {
  const models = ctx.rt.scheduler.loaded().map(({ model, expiresAt }) => ({
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
  'DELETE /api/delete': { jsonBody: true, handle: deleteModel },
};
