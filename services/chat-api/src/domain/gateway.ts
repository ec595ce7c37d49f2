import type { ModelPullRequest } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import axios, { type AxiosInstance } from 'axios';
import { Agent, type Dispatcher, request } from 'undici';
import { streamChat } from './chat-stream.js';

import {
  type ChatDone,
  CONVERSATION_HEADER,
  type ChatEvents,
  type ChatRequest,
  type GatewayModel,
  type GatewayOptions,
  type GenerateRequest,
  num,
  type OllamaChunk,
  toolCallsOf,
} from './ollama-wire.js';

export * from './ollama-wire.js';

/** The gateway refused our credentials: an operator's mistake, never the caller's, so a 502 that says so. */
export const GATEWAY_AUTH_FAILED =
  "The inference gateway refused chat-api's service token; check GATEWAY_SERVICE_TOKEN on both services.";

/** Maps a gateway error answer onto our catalog: 404 is an unknown model, 503 a full pool. */
function upstreamError(status: number, message: string): AppError {
  if (status === 401 || status === 403) {
    return new AppError('bad_gateway', `${GATEWAY_AUTH_FAILED} (gateway answered ${status})`, {
      extensions: { upstreamStatus: status },
    });
  }
  if (status === 404) return new AppError('model_not_found', message || 'The model is not available.');
  if (status === 503 || status === 429) {
    return new AppError('overloaded', message || 'The model servers are busy.', {
      headers: { 'Retry-After': '2' },
    });
  }
  if (status === 400) return new AppError('bad_request', message || 'The model server refused the request.');
  return new AppError('bad_gateway', `The model server answered ${status}${message ? `: ${message}` : ''}`);
}

function errorText(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  }
  // The gateway's own routes (/admin/*) answer plain problem+json.
  if (body && typeof body === 'object' && 'detail' in body) return String(body.detail);
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

/**
 * The inference gateway, spoken to in Ollama's wire format. Token streams go through undici
 * (no buffering; aborting the signal closes the upstream connection, which stops the model);
 * small calls go through axios with timeouts, and idempotent ones are retried once.
 */
export class GatewayClient {
  private readonly http: AxiosInstance;
  private readonly agent: Agent;

  private readonly authHeaders: Record<string, string>;
  private readonly chatHeaders: Record<string, string>;
  private readonly chatTarget: { origin: string; path: string };
  private readonly generateTarget: { origin: string; path: string };

  constructor(private readonly options: GatewayOptions) {
    this.authHeaders = options.serviceToken ? { authorization: `Bearer ${options.serviceToken}` } : {};
    this.chatHeaders = {
      'content-type': 'application/json',
      accept: 'application/x-ndjson',
      ...this.authHeaders,
    };
    const chatUrl = new URL(`${options.baseUrl}/api/chat`);
    this.chatTarget = { origin: chatUrl.origin, path: `${chatUrl.pathname}${chatUrl.search}` };
    const generateUrl = new URL(`${options.baseUrl}/api/generate`);
    this.generateTarget = {
      origin: generateUrl.origin,
      path: `${generateUrl.pathname}${generateUrl.search}`,
    };
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      headers: this.authHeaders,
    });
    this.agent = new Agent({
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async version(signal?: AbortSignal): Promise<string> {
    try {
      const res = await this.http.get<{ version?: string }>('/api/version', signal ? { signal } : {});
      return String(res.data.version ?? 'unknown');
    } catch (error) {
      throw this.toAppError(error);
    }
  }

  /** What the model can do, as Ollama's /api/show lists it (`completion`, `vision`, `thinking`, …). */
  async capabilities(model: string): Promise<string[]> {
    return (await this.show(model)).capabilities;
  }

  /** One /api/show answer read for both what the model can do and its context length. */
  private async show(model: string): Promise<{ capabilities: string[]; contextLength: number | null }> {
    const res = await this.withRetry(() =>
      this.http.post<{ capabilities?: unknown; model_info?: Record<string, unknown> }>('/api/show', {
        model,
      }),
    );
    const list = res.data.capabilities;
    const info = res.data.model_info ?? {};
    const key = Object.keys(info).find((name) => name.endsWith('.context_length'));
    const value = key === undefined ? undefined : info[key];
    return {
      capabilities: Array.isArray(list) ? list.filter((c): c is string => typeof c === 'string') : [],
      contextLength: typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null,
    };
  }

  async listModels(): Promise<GatewayModel[]> {
    const res = await this.withRetry(() => this.http.get<{ models?: GatewayModel[] }>('/api/tags'));
    return res.data.models ?? [];
  }

  /** The context length (tokens) the model reports in `/api/show` (`<arch>.context_length`); null if none. */
  async contextLength(model: string): Promise<number | null> {
    return (await this.show(model)).contextLength;
  }

  async embed(
    model: string,
    input: string[],
    dimensions?: number,
  ): Promise<{ embeddings: number[][]; promptTokens: number }> {
    try {
      const res = await this.http.post<{ embeddings?: number[][]; prompt_eval_count?: number }>(
        '/api/embed',
        {
          model,
          input,
          ...(dimensions ? { dimensions } : {}),
        },
      );
      return { embeddings: res.data.embeddings ?? [], promptTokens: res.data.prompt_eval_count ?? 0 };
    } catch (error) {
      throw this.toAppError(error);
    }
  }

  /**
   * Streams a chat reply: `onToken` for each piece of text, resolves with the final chunk's
   * counts. `conversationId` (a conversation's turns) lets the gateway route turns to one backend.
   * Rejects with an AppError on an upstream failure, or with the signal's reason on abort.
   */
  chat(
    body: ChatRequest,
    onToken: (text: string) => void,
    signal: AbortSignal,
    events?: ChatEvents,
    conversationId?: string,
  ): Promise<ChatDone> {
    return streamChat(
      this.agent,
      {
        ...this.chatTarget,
        headers:
          conversationId === undefined
            ? this.chatHeaders
            : { ...this.chatHeaders, [CONVERSATION_HEADER]: conversationId },
        body: JSON.stringify({ ...body, stream: true }),
        signal,
      },
      {
        line: (line) => this.handleLine(line, onToken, events),
        refusal: (status, text) => this.refusalFrom(status, text),
      },
    );
  }

  /** Streams a plain-prompt completion (`/api/generate`): `onToken` per piece, resolves with the counts. */
  generate(body: GenerateRequest, onToken: (text: string) => void, signal: AbortSignal): Promise<ChatDone> {
    return streamChat(
      this.agent,
      {
        ...this.generateTarget,
        headers: this.chatHeaders,
        body: JSON.stringify({ ...body, stream: true }),
        signal,
      },
      {
        line: (line) => this.handleLine(line, onToken, undefined, true),
        refusal: (status, text) => this.refusalFrom(status, text),
      },
    );
  }

  /** The gateway's own admin routes (`GET /admin/backends`, `DELETE /admin/models`), passed on as they answer. */
  async admin(method: 'GET' | 'DELETE', url: string, data?: unknown): Promise<unknown> {
    try {
      const res = await this.http.request<unknown>({ method, url, data });
      return res.data;
    } catch (error) {
      throw this.toAppError(error);
    }
  }

  /**
   * Starts the gateway's `POST /admin/models/pull`: resolves once it has accepted the pull, with
   * its NDJSON progress still streaming. Aborting the signal closes the request, which stops the pulls.
   */
  async pullModel(pull: ModelPullRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData['body']> {
    let res;
    try {
      res = await request(`${this.options.baseUrl}/admin/models/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', ...this.authHeaders },
        body: JSON.stringify(pull),
        signal,
        dispatcher: this.agent,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new AppError('bad_gateway', 'The model server could not be reached.', { cause: error });
    }
    if (res.statusCode === 503) {
      // Here the gateway's 503 means no healthy backend to pull onto, not a busy pool.
      const { message } = await this.refusal(res);
      const retryAfter = res.headers['retry-after'];
      throw new AppError('service_unavailable', message, {
        headers: { 'Retry-After': typeof retryAfter === 'string' ? retryAfter : '5' },
      });
    }
    if (res.statusCode !== 200) throw await this.refusal(res);
    return res.body;
  }

  /** A non-200 answer from a streamed call, read and mapped onto our catalog. */
  private async refusal(res: Dispatcher.ResponseData): Promise<AppError> {
    return this.refusalFrom(res.statusCode, await res.body.text().catch(() => ''));
  }

  private refusalFrom(status: number, text: string): AppError {
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    this.noteAuthFailure(status);
    return upstreamError(status, errorText(parsed));
  }

  private handleLine(
    line: string,
    onToken: (text: string) => void,
    events: ChatEvents | undefined,
    generated = false,
  ): ChatDone | undefined {
    let chunk: OllamaChunk;
    try {
      chunk = JSON.parse(line) as OllamaChunk;
    } catch {
      throw new AppError('bad_gateway', 'The model server sent a malformed chunk.');
    }
    if (chunk.error !== undefined) throw new AppError('bad_gateway', `The model failed: ${errorText(chunk)}`);
    const content = generated ? chunk.response : chunk.message?.content;
    if (events && chunk.message) {
      const { thinking, tool_calls: calls } = chunk.message;
      if (typeof thinking === 'string' && thinking !== '') events.thinking?.(thinking);
      if (Array.isArray(calls) && calls.length > 0) events.toolCalls?.(toolCallsOf(calls));
    }
    if (typeof content === 'string' && content !== '') onToken(content);
    if (chunk.done !== true) return undefined;
    return {
      doneReason: typeof chunk.done_reason === 'string' ? chunk.done_reason : undefined,
      promptTokens: num(chunk.prompt_eval_count),
      completionTokens: num(chunk.eval_count),
      evalDurationNs: num(chunk.eval_duration),
      totalDurationNs: num(chunk.total_duration),
    };
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (first) {
      if (axios.isAxiosError(first) && first.response && first.response.status < 500)
        throw this.toAppError(first);
      try {
        return await call();
      } catch (error) {
        throw this.toAppError(error);
      }
    }
  }

  private lastAuthFailureAt = 0;

  private noteAuthFailure(status: number): void {
    if (status !== 401 && status !== 403) return;
    const now = Date.now();
    if (now - this.lastAuthFailureAt < 60_000) return;
    this.lastAuthFailureAt = now;
    this.options.onAuthFailure?.(status);
  }

  private toAppError(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (axios.isAxiosError(error)) {
      if (error.response) {
        this.noteAuthFailure(error.response.status);
        return upstreamError(error.response.status, errorText(error.response.data));
      }
      if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
        return new AppError('upstream_timeout', 'The model server did not answer in time.', { cause: error });
      }
    }
    return new AppError('bad_gateway', 'The model server could not be reached.', { cause: error });
  }
}
