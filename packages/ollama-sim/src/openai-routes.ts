import { normalizeModelName } from '@corral/contracts';
import { runGeneration, type GenerationWriter } from './engine.js';
import {
  contentText,
  countPromptTokens,
  lastUserMessage,
  openAIFormat,
  simulatedEmbedding,
  simulatedReply,
} from './generator.js';
import { SimHttpError, optionalNumber, requireString, sendJson } from './http-util.js';
import type { SimModel } from './models.js';
import {
  BUSY_MESSAGE,
  embeddingDimensions,
  embeddingInputs,
  objectField,
  withSlot,
  type RouteContext,
  type RouteTable,
} from './routes.js';

/** OpenAI's error body, with the `type` Ollama's compatibility layer picks for each status. */
export function openAIError(status: number, message: string): Record<string, unknown> {
  const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
  return { error: { message, type, param: null, code: null } };
}

let completionCounter = 0;

function handleChatCompletions(ctx: RouteContext): void {
  const { rt, res, body } = ctx;
  const modelName = requireString(body, 'model');
  const model = rt.requireModel(modelName);
  if (model.kind === 'embedding')
    throw new SimHttpError(400, `${JSON.stringify(modelName)} does not support chat`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new SimHttpError(400, 'messages must not be empty');
  const typed = messages as Array<{ role?: unknown; content?: unknown }>;
  rt.models.touch(model, 5 * 60_000);
  const reply = simulatedReply({
    model: modelName,
    prompt: lastUserMessage(typed),
    seed: optionalNumber(body.seed) ?? rt.tunables.seed,
    numPredict: optionalNumber(body.max_completion_tokens) ?? optionalNumber(body.max_tokens),
    format: openAIFormat(body.response_format),
    responseTokens: rt.tunables.responseTokens,
  });
  const promptTokens = countPromptTokens(typed.map((m) => contentText(m?.content)).join('\n'));
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: reply.evalCount,
    total_tokens: promptTokens + reply.evalCount,
  };
  const id = `chatcmpl-${++completionCounter}`;
  const created = Math.floor(Date.now() / 1000);
  const finishReason = reply.doneReason === 'length' ? 'length' : 'stop';
  const includeUsage = objectField(body, 'stream_options').include_usage === true;

  let writer: GenerationWriter;
  if (body.stream === true) {
    const chunkHead = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(modelName)},"system_fingerprint":"fp_ollama","choices":`;
    const writeHead = (): void => {
      if (!res.headersSent)
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    };
    writer = {
      token(piece) {
        writeHead();
        res.write(
          `data: ${chunkHead}[{"index":0,"delta":{"role":"assistant","content":${JSON.stringify(piece)}},"finish_reason":null}]}\n\n`,
        );
      },
      done() {
        writeHead();
        const last = [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: finishReason }];
        let out = `data: ${chunkHead}${JSON.stringify(last)}}\n\n`;
        if (includeUsage) out += `data: ${chunkHead}[],"usage":${JSON.stringify(usage)}}\n\n`;
        res.end(`${out}data: [DONE]\n\n`);
      },
    };
  } else {
    writer = {
      token() {},
      done() {
        sendJson(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model: modelName,
          system_fingerprint: 'fp_ollama',
          choices: [
            { index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: finishReason },
          ],
          usage,
        });
      },
    };
  }
  const plan = { reply, receivedAt: ctx.receivedAt, dropAfterTokens: ctx.dropAfterTokens };
  if (!runGeneration(rt, res, plan, writer)) throw new SimHttpError(503, BUSY_MESSAGE);
}

function modelEntry(model: SimModel): Record<string, unknown> {
  return {
    id: model.name,
    object: 'model',
    created: Math.floor(Date.parse(model.modifiedAt) / 1000),
    owned_by: 'library',
  };
}

function handleEmbeddings(ctx: RouteContext): void {
  const { rt, res, body } = ctx;
  const modelName = requireString(body, 'model');
  const model = rt.requireModel(modelName);
  const inputs = embeddingInputs(body.input);
  if (inputs.length === 0 || inputs.some((text) => text === '')) throw new SimHttpError(400, 'invalid input');
  const dimensions = embeddingDimensions(body.dimensions, model.embeddingDimension);
  const base64 = body.encoding_format === 'base64';
  rt.models.touch(model, 5 * 60_000);
  withSlot(rt, res, () => {
    const data = inputs.map((text, index) => {
      const vector = simulatedEmbedding(modelName, text, dimensions);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', embedding, index };
    });
    const promptTokens = inputs.reduce((sum, text) => sum + countPromptTokens(text), 0);
    sendJson(res, 200, {
      object: 'list',
      data,
      model: modelName,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  });
}

export const openAIRoutes: RouteTable = {
  'POST /v1/chat/completions': { generation: true, jsonBody: true, handle: handleChatCompletions },
  'POST /v1/embeddings': { jsonBody: true, handle: handleEmbeddings },
  'GET /v1/models': {
    handle: ({ rt, res }) => sendJson(res, 200, { object: 'list', data: rt.models.list().map(modelEntry) }),
  },
};

/** GET /v1/models/{model}: the one dynamic path, matched by prefix. */
export function retrieveModelRoute(path: string): RouteTable[string] | undefined {
  if (!path.startsWith('/v1/models/')) return undefined;
  const name = decodeURIComponent(path.slice('/v1/models/'.length));
  return {
    handle: ({ rt, res }) => {
      const model = rt.models.find(name);
      if (!model) throw new SimHttpError(404, `model "${normalizeModelName(name)}" not found`);
      sendJson(res, 200, modelEntry(model));
    },
  };
}
