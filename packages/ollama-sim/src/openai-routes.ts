import { normalizeModelName } from '@corral/contracts';
import { runGeneration, type DoneTimings, type GenerationWriter } from './engine.js';
import {
  cacheTextAfterReply,
  chatCacheText,
  checkCapabilities,
  checkImageBytes,
  parseTools,
  resolveThink,
} from './features.js';
import { contentText, countPromptTokens, simulatedEmbedding } from './generator.js';
import { handleCompletions } from './openai-completions.js';
import { convertOpenAIMessages, formatFromOpenAI, thinkFromOpenAI } from './openai-request.js';
import { simulatedChatReply, type SimToolCall } from './reply.js';
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

interface OpenAIToolCall {
  id: string;
  index: number;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Ollama's `ToToolCalls`: ids kept, arguments as a JSON string, the call's index. */
function openAIToolCalls(calls: SimToolCall[]): OpenAIToolCall[] {
  return calls.map((call) => ({
    id: call.id,
    index: call.function.index,
    type: 'function',
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) },
  }));
}

function handleChatCompletions(ctx: RouteContext): void {
  const { rt, res, body } = ctx;
  const modelName = requireString(body, 'model');
  const rawMessages = body.messages;
  if (!Array.isArray(rawMessages) || rawMessages.length === 0)
    throw new SimHttpError(400, "[] is too short - 'messages'");
  const { messages, images } = convertOpenAIMessages(rawMessages);
  const format = formatFromOpenAI(body.response_format);
  const requestedThink = thinkFromOpenAI(body);
  const model = rt.requireModel(modelName);
  const tools = parseTools(body.tools);
  const think = resolveThink(modelName, model.capabilities, requestedThink);
  checkCapabilities(modelName, model, 'chat', tools);
  const imageError = checkImageBytes(model, images);
  if (imageError) throw new SimHttpError(500, imageError.message);

  const reply = simulatedChatReply({
    model: modelName,
    capabilities: model.capabilities,
    messages,
    tools,
    think,
    format,
    imageCount: images.length,
    seed: optionalNumber(body.seed) ?? rt.tunables.seed,
    numPredict: optionalNumber(body.max_completion_tokens) ?? optionalNumber(body.max_tokens),
    responseTokens: rt.tunables.responseTokens,
  });
  const usageOf = (timings: DoneTimings) => ({
    prompt_tokens: timings.prompt_eval_count,
    completion_tokens: reply.evalCount,
    total_tokens: timings.prompt_eval_count + reply.evalCount,
  });
  const id = `chatcmpl-${++completionCounter}`;
  const created = Math.floor(Date.now() / 1000);
  const calls = openAIToolCalls(reply.toolCalls);
  const finishReason = calls.length > 0 ? 'tool_calls' : reply.doneReason === 'length' ? 'length' : 'stop';
  const includeUsage = objectField(body, 'stream_options').include_usage === true;

  let writer: GenerationWriter;
  if (body.stream === true) {
    const chunkHead = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(modelName)},"system_fingerprint":"fp_ollama","choices":`;
    const send = (delta: string): void => {
      if (!res.headersSent)
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(`data: ${chunkHead}[{"index":0,"delta":${delta},"finish_reason":null}]}\n\n`);
    };
    writer = {
      token: (piece) => send(`{"role":"assistant","content":${JSON.stringify(piece)}}`),
      thinking: (piece) => send(`{"role":"assistant","content":"","reasoning":${JSON.stringify(piece)}}`),
      toolCalls: () => send(JSON.stringify({ role: 'assistant', content: '', tool_calls: calls })),
      done(timings) {
        if (!res.headersSent)
          res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        const last = [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: finishReason }];
        let out = `data: ${chunkHead}${JSON.stringify(last)}}\n\n`;
        if (includeUsage) out += `data: ${chunkHead}[],"usage":${JSON.stringify(usageOf(timings))}}\n\n`;
        res.end(`${out}data: [DONE]\n\n`);
      },
    };
  } else {
    writer = {
      token() {},
      done(timings) {
        const message: Record<string, unknown> = { role: 'assistant', content: reply.text };
        if (reply.thinking.length > 0) message.reasoning = reply.thinking.join('');
        if (calls.length > 0) message.tool_calls = calls;
        sendJson(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model: modelName,
          system_fingerprint: 'fp_ollama',
          choices: [{ index: 0, message, finish_reason: finishReason }],
          usage: usageOf(timings),
        });
      },
    };
  }
  const cacheText = chatCacheText(messages);
  const answer = { role: 'assistant', content: reply.text, tool_calls: reply.toolCalls };
  const plan = {
    model,
    reply,
    keepAliveMs: rt.tunables.keepAliveMs,
    promptTokens: countPromptTokens(messages.map((m) => contentText(m.content)).join('\n')),
    cacheText,
    cacheTextAfter: cacheTextAfterReply(cacheText, answer),
    receivedAt: ctx.receivedAt,
    dropAfterTokens: ctx.dropAfterTokens,
  };
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
  withSlot(rt, res, model, rt.tunables.keepAliveMs, () => {
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
  'POST /v1/completions': { generation: true, jsonBody: true, handle: handleCompletions },
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
