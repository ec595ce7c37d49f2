import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AppError, type DirectRoute, parseInput, toAppError } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import { admitGeneration, type Caller } from '../domain/admission.js';
import { assertMessageSizes } from '../domain/message-size.js';
import { openAiToolCall, sendJson, v1Route } from './chat-completions.js';
import { chatBody, toOllamaChat } from './openai-chat-request.js';
import { openAiError } from './openai-errors.js';
import { responsesAsChat } from './responses-request.js';
import { type EventStream, openEventStream } from './sse.js';
import { finishGeneration, imageLoader } from './v1-generation.js';

const hex = () => randomUUID().replaceAll('-', '');

/** `POST /v1/responses`, stateless: the whole conversation comes in `input`; nothing is stored. */
export function responsesRoute(ctx: ChatContext): DirectRoute {
  return v1Route(ctx, '/v1/responses', respond);
}

type OutputItem = Record<string, unknown> & { type: string; id: string };

/**
 * Builds the response's output items as the reply arrives, and (when streaming) sends the
 * Responses events for each: `response.output_item.added`, the deltas, `….done`, in order.
 */
class OutputBuilder {
  readonly items: OutputItem[] = [];
  private open: { item: OutputItem; text: string; kind: 'message' | 'reasoning' } | undefined;
  private sequence = 0;

  constructor(private readonly emit: ((type: string, data: Record<string, unknown>) => void) | undefined) {}

  event(type: string, data: Record<string, unknown>): void {
    this.emit?.(type, { type, sequence_number: this.sequence++, ...data });
  }

  text(kind: 'message' | 'reasoning', piece: string): void {
    if (this.open?.kind !== kind) {
      this.close();
      const item: OutputItem =
        kind === 'message'
          ? { type: 'message', id: `msg_${hex()}`, status: 'in_progress', role: 'assistant', content: [] }
          : { type: 'reasoning', id: `rs_${hex()}`, summary: [] };
      this.items.push(item);
      this.open = { item, text: '', kind };
      this.event('response.output_item.added', { output_index: this.items.length - 1, item });
      const where = { item_id: item.id, output_index: this.items.length - 1 };
      if (kind === 'message') {
        this.event('response.content_part.added', { ...where, content_index: 0, part: part('') });
      } else {
        this.event('response.reasoning_summary_part.added', {
          ...where,
          summary_index: 0,
          part: summary(''),
        });
      }
    }
    this.open.text += piece;
    const where = { item_id: this.open.item.id, output_index: this.items.length - 1 };
    if (kind === 'message')
      this.event('response.output_text.delta', { ...where, content_index: 0, delta: piece });
    else this.event('response.reasoning_summary_text.delta', { ...where, summary_index: 0, delta: piece });
  }

  toolCall(call: ReturnType<typeof openAiToolCall>): void {
    this.close();
    const item: OutputItem = {
      type: 'function_call',
      id: `fc_${hex()}`,
      call_id: call.id,
      name: call.function.name,
      arguments: '',
      status: 'in_progress',
    };
    this.items.push(item);
    const where = { item_id: item.id, output_index: this.items.length - 1 };
    this.event('response.output_item.added', { output_index: where.output_index, item: { ...item } });
    this.event('response.function_call_arguments.delta', { ...where, delta: call.function.arguments });
    item.arguments = call.function.arguments;
    item.status = 'completed';
    this.event('response.function_call_arguments.done', { ...where, arguments: item.arguments });
    this.event('response.output_item.done', { output_index: where.output_index, item });
  }

  close(): void {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const where = { item_id: open.item.id, output_index: this.items.indexOf(open.item) };
    if (open.kind === 'message') {
      this.event('response.output_text.done', { ...where, content_index: 0, text: open.text });
      this.event('response.content_part.done', { ...where, content_index: 0, part: part(open.text) });
      open.item.content = [part(open.text)];
      open.item.status = 'completed';
    } else {
      this.event('response.reasoning_summary_text.done', { ...where, summary_index: 0, text: open.text });
      this.event('response.reasoning_summary_part.done', {
        ...where,
        summary_index: 0,
        part: summary(open.text),
      });
      open.item.summary = [summary(open.text)];
    }
    this.event('response.output_item.done', { output_index: where.output_index, item: open.item });
  }
}

const part = (text: string) => ({ type: 'output_text', text, annotations: [] });
const summary = (text: string) => ({ type: 'summary_text', text });

async function respond(ctx: ChatContext, caller: Caller, input: unknown, res: ServerResponse): Promise<void> {
  const { body, chat } = responsesAsChat(input);
  const chatRequest = parseInput(chatBody, chat);
  assertMessageSizes(
    chatRequest.messages.map((m, i) => ({
      path: `body.input.${i}`,
      role: m.role,
      length: typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length,
    })),
    ctx.config.MAX_MESSAGE_CHARS,
  );
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new AppError('client_closed_request'));
  });
  const request = await toOllamaChat(chatRequest, imageLoader(ctx, controller.signal));
  const maxCalls = body.parallel_tool_calls === false ? 1 : Infinity;
  const id = `resp_${hex()}`;
  const admission = await admitGeneration(ctx, caller, body.model, {
    wanted: body.max_output_tokens ?? undefined,
    slotId: id,
  });
  // Under a budget, no more than was reserved: generation stops when the reservation is spent.
  if (admission.maxTokens !== null)
    request.options = { ...request.options, num_predict: admission.maxTokens };
  const createdAt = Math.floor(Date.now() / 1000);
  let promptTokens = 0;
  let completionTokens = 0;
  const snapshot = (status: string, output: OutputItem[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    model: body.model,
    output,
    instructions: body.instructions ?? null,
    tools: body.tools ?? [],
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    text: { format: body.text?.format ?? { type: 'text' } },
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    previous_response_id: null,
    store: false,
    metadata: body.metadata ?? {},
    error: null,
    incomplete_details: null,
    usage: null,
    ...extra,
  });
  let stream: EventStream | undefined;
  const builder = new OutputBuilder(
    body.stream
      ? (type, data) => {
          stream ??= openEventStream(res, ctx.metrics.openStreams.labels({ api: 'v1' }));
          stream.send(type, data);
        }
      : undefined,
  );
  builder.event('response.created', { response: snapshot('in_progress', []) });
  builder.event('response.in_progress', { response: snapshot('in_progress', []) });
  let calls = 0;
  try {
    const done = await ctx.gateway.chat(
      request,
      (text) => {
        completionTokens += 1;
        builder.text('message', text);
      },
      controller.signal,
      {
        thinking: (text) => builder.text('reasoning', text),
        toolCalls: (received) => {
          for (const call of received) if (calls++ < maxCalls) builder.toolCall(openAiToolCall(call));
        },
      },
    );
    builder.close();
    promptTokens = done.promptTokens ?? 0;
    completionTokens = done.completionTokens ?? completionTokens;
    const incomplete = done.doneReason === 'length';
    const final = snapshot(incomplete ? 'incomplete' : 'completed', builder.items, {
      incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
      usage: {
        input_tokens: promptTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: completionTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: promptTokens + completionTokens,
      },
    });
    if (stream) {
      builder.event(incomplete ? 'response.incomplete' : 'response.completed', { response: final });
      stream.end();
    } else sendJson(res, final);
  } catch (error) {
    if (!stream) throw error;
    const { error: detail } = openAiError(toAppError(error));
    builder.event('error', { code: detail.code, message: detail.message, param: null });
    stream.end();
  } finally {
    finishGeneration(ctx, caller, admission, body.model, { promptTokens, completionTokens });
  }
}
