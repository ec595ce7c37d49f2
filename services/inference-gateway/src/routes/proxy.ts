import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '@corral/service-kit';
import express, { type Express, type Request, type Response } from 'express';
import type { Dispatcher } from 'undici';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import { normalizeModelName } from '../domain/model-names.js';
import { type Lease, RoutingError } from '../domain/router.js';
import { describeFailure } from '../domain/upstream.js';
import { UsageEventFilter, requestUsageOnBehalf } from '../domain/usage-event-filter.js';
import { UsageTap } from '../domain/usage-tap.js';
import { type RequestOutcome, UNKNOWN_MODEL } from '../metrics.js';
import { type WireFamily, sendWireError } from './wire-errors.js';

/** A route that goes to one backend chosen by the model in its body. */
interface ModelRoute {
  path: string;
  family: WireFamily;
  /** Takes one of the backend's parallel slots (generations and embeddings do; /api/show does not). */
  limited: boolean;
  /** Carries token counts worth reading as the response passes. */
  generation: boolean;
  /** Where the model name is in the body. */
  modelFields: string[];
}

const MODEL_ROUTES: ModelRoute[] = [
  { path: '/api/chat', family: 'ollama', limited: true, generation: true, modelFields: ['model'] },
  { path: '/api/generate', family: 'ollama', limited: true, generation: true, modelFields: ['model'] },
  { path: '/api/embed', family: 'ollama', limited: true, generation: false, modelFields: ['model'] },
  { path: '/api/embeddings', family: 'ollama', limited: true, generation: false, modelFields: ['model'] },
  { path: '/api/show', family: 'ollama', limited: false, generation: false, modelFields: ['model', 'name'] },
  { path: '/v1/chat/completions', family: 'openai', limited: true, generation: true, modelFields: ['model'] },
  { path: '/v1/embeddings', family: 'openai', limited: true, generation: false, modelFields: ['model'] },
];

/** Request headers worth passing on; the rest (auth, cookies, hop-by-hop) stay here. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'user-agent', 'traceparent', 'tracestate'];

/** Hop-by-hop headers (RFC 9110 §7.6.1) are this connection's business, not the client's. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A failure before the backend sent anything usable: the request may go to another backend. */
interface EarlyFailure {
  kind: 'connect' | 'timeout' | 'server_error' | 'busy';
  reason: string;
  /** The backend's own answer (5xx, 503), passed on if no retry is left. */
  response?: { statusCode: number; headers: IncomingHttpHeaders; body: Buffer };
}

function modelOf(body: Record<string, unknown>, fields: string[]): string | undefined {
  for (const field of fields) {
    const value = body[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

function parseBody(raw: unknown): Record<string, unknown> {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') throw new AppError('bad_request', 'missing request body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError('malformed_json', `invalid JSON in request body: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('bad_request', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function forwardedHeaders(req: Request, res: Response): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const requestId = res.locals.requestId as string | undefined;
  if (requestId) headers['x-request-id'] = requestId;
  return headers;
}

function responseHeaders(upstream: IncomingHttpHeaders, backend: Backend): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = value;
  }
  headers['x-corral-backend'] = backend.id;
  return headers;
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_ERROR_BODY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function isStreamingType(contentType: string | undefined): 'ndjson' | 'sse' | undefined {
  if (!contentType) return undefined;
  if (contentType.includes('ndjson')) return 'ndjson';
  if (contentType.includes('text/event-stream')) return 'sse';
  return undefined;
}

/** The closing line a broken stream ends with, so the caller knows and can keep what it has. */
function finalErrorLine(kind: 'ndjson' | 'sse', message: string, endsWithNewline: boolean): string {
  if (kind === 'ndjson')
    return `${endsWithNewline ? '' : '\n'}${JSON.stringify({ error: message, done: true })}\n`;
  const event = { error: { message, type: 'api_error', param: null, code: 'bad_gateway' } };
  return `${endsWithNewline ? '' : '\n\n'}data: ${JSON.stringify(event)}\n\n`;
}

function routingErrorToApp(error: RoutingError, gw: GatewayContext, requested: string | undefined): AppError {
  const retryAfter = gw.router.retryAfterSeconds;
  switch (error.reason) {
    case 'model_not_found':
      // Ollama's own wording, with the name as the client gave it.
      return new AppError('model_not_found', `model "${requested}" not found, try pulling it first`, {
        extensions: { availableModels: [...gw.pool.modelUnion().keys()].sort() },
      });
    case 'queue_full':
    case 'queue_timeout':
      return new AppError('overloaded', `${error.message}; retry in ${retryAfter}s`, {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { retryAfter },
      });
    case 'no_backend':
    default:
      return new AppError('service_unavailable', error.message, {
        headers: { 'Retry-After': String(retryAfter) },
        extensions: { retryAfter },
      });
  }
}

function outcomeOf(error: AppError): RequestOutcome {
  if (error.code === 'model_not_found') return 'model_not_found';
  if (error.code === 'overloaded') return 'overloaded';
  if (error.code === 'service_unavailable') return 'unavailable';
  if (error.status < 500) return 'client_error';
  return 'upstream_error';
}

/** One proxied request: choose, send, fail over once before the first byte, relay chunk by chunk. */
class ProxiedRequest {
  private readonly started = process.hrtime.bigint();
  private readonly controller = new AbortController();
  private readonly tried = new Set<Backend>();
  /** The gateway asked for /v1 usage on the client's behalf: the usage event is not passed on. */
  private stripUsageEvent = false;

  constructor(
    private readonly gw: GatewayContext,
    private readonly route: ModelRoute,
    private readonly req: Request,
    private readonly res: Response,
  ) {}

  async run(): Promise<void> {
    // The client went away (or the grace period ended): stop the backend's work at once.
    this.res.once('close', () => {
      if (!this.res.writableFinished) this.controller.abort();
    });
    // The shutdown grace period is over: open streams end now, with their final error line.
    const onDrain = () => this.controller.abort();
    this.gw.drainSignal.addEventListener('abort', onDrain, { once: true });
    let outcome: RequestOutcome;
    let model: string | undefined;
    let routedModel: string | undefined;
    try {
      const body = parseBody(this.req.body);
      model = modelOf(body, this.route.modelFields);
      if (model === undefined) throw new AppError('bad_request', 'model is required');
      routedModel = normalizeModelName(model);
      outcome = await this.forward(routedModel, this.payloadFor(body));
    } catch (error) {
      const appError =
        error instanceof AppError
          ? error
          : error instanceof RoutingError
            ? routingErrorToApp(error, this.gw, model)
            : new AppError('internal', 'An unexpected error occurred.', { cause: error });
      if (appError.code === 'internal') this.gw.logger.error('proxy failed', { error });
      outcome = this.controller.signal.aborted ? 'cancelled' : outcomeOf(appError);
      if (!this.controller.signal.aborted) sendWireError(this.res, this.route.family, appError);
    }
    this.gw.drainSignal.removeEventListener('abort', onDrain);
    this.gw.metrics.requests.inc({ route: this.route.path, outcome });
    // Only names some backend holds become label values, so a client cannot grow the series.
    const modelLabel = routedModel && this.gw.pool.anyHolds(routedModel) ? routedModel : UNKNOWN_MODEL;
    this.gw.metrics.requestDuration.observe(
      { route: this.route.path, model: modelLabel, outcome },
      Number(process.hrtime.bigint() - this.started) / 1e9,
    );
  }

  /** The body to send: as received, except a /v1 chat stream also asks for its token counts. */
  private payloadFor(body: Record<string, unknown>): Buffer {
    if (this.route.path === '/v1/chat/completions') {
      const withUsage = requestUsageOnBehalf(body);
      if (withUsage) {
        this.stripUsageEvent = true;
        return Buffer.from(JSON.stringify(withUsage));
      }
    }
    return this.req.body as Buffer;
  }

  private async forward(model: string, body: Buffer): Promise<RequestOutcome> {
    const { signal } = this.controller;
    for (let attempt = 0; ; attempt++) {
      const lease = await this.acquire(model, attempt);
      const backend = lease.backend;
      this.tried.add(backend);
      let upstream: Dispatcher.ResponseData;
      try {
        upstream = await this.gw.upstream.open(`${backend.url}${this.route.path}`, {
          method: 'POST',
          headers: forwardedHeaders(this.req, this.res),
          body,
          signal,
        });
      } catch (error) {
        lease.release();
        if (signal.aborted) return 'cancelled';
        const failure = this.classifyError(error);
        this.gw.health.reportFailure(backend, failure.reason);
        if (attempt === 0 && (await this.canRetry(model, failure))) continue;
        throw this.failureToApp(failure);
      }
      const status = upstream.statusCode;
      if (status >= 500) {
        const failure = await this.classifyStatus(upstream, backend);
        lease.release();
        if (signal.aborted) return 'cancelled';
        if (attempt === 0 && (await this.canRetry(model, failure))) continue;
        return this.passOn(failure, backend);
      }
      return this.relay(upstream, lease, model);
    }
  }

  private acquire(model: string, attempt: number): Promise<Lease> {
    const options = { signal: this.controller.signal, limited: this.route.limited };
    if (attempt === 0) return this.gw.router.acquire(model, options);
    return this.gw.router.acquire(model, { ...options, exclude: this.tried });
  }

  /** Whether a second attempt is worth making; a busy lone backend may be waited for instead. */
  private async canRetry(model: string, failure: EarlyFailure): Promise<boolean> {
    let others: Backend[] = [];
    try {
      others = this.gw.router.candidates(model, this.tried);
    } catch {
      others = [];
    }
    if (others.length === 0 && failure.kind === 'busy') this.tried.clear();
    else if (others.length === 0) return false;
    this.gw.metrics.retries.inc({ route: this.route.path });
    return true;
  }

  private classifyError(error: unknown): EarlyFailure {
    const code = (error as { code?: unknown }).code;
    const kind = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'timeout' : 'connect';
    return { kind, reason: describeFailure(error) };
  }

  private async classifyStatus(upstream: Dispatcher.ResponseData, backend: Backend): Promise<EarlyFailure> {
    const body = await readLimited(upstream.body).catch(() => Buffer.alloc(0));
    const response = { statusCode: upstream.statusCode, headers: upstream.headers, body };
    if (upstream.statusCode === 503) {
      // Ollama's own queue is full: the backend is alive, only busy.
      this.gw.router.markBusy(backend);
      return { kind: 'busy', reason: 'backend busy (503)', response };
    }
    const reason = `answered ${upstream.statusCode}: ${body.toString('utf8').slice(0, 200)}`;
    this.gw.health.reportFailure(backend, reason);
    return { kind: 'server_error', reason, response };
  }

  private failureToApp(failure: EarlyFailure): AppError {
    if (failure.kind === 'timeout') {
      return new AppError('upstream_timeout', `backend did not answer in time: ${failure.reason}`);
    }
    return new AppError('bad_gateway', `backend failed: ${failure.reason}`);
  }

  /** No retry left: the backend's own error answer goes to the client as it was. */
  private passOn(failure: EarlyFailure, backend: Backend): RequestOutcome {
    const response = failure.response;
    if (!response) throw this.failureToApp(failure);
    const headers = responseHeaders(response.headers, backend);
    delete headers['content-length'];
    if (failure.kind === 'busy') headers['retry-after'] ??= String(this.gw.router.retryAfterSeconds);
    this.res.writeHead(response.statusCode, headers);
    this.res.end(response.body);
    return failure.kind === 'busy' ? 'overloaded' : 'upstream_error';
  }

  /** Pipes the backend's answer through as it arrives; never holds a chunk back. */
  private relay(upstream: Dispatcher.ResponseData, lease: Lease, model: string): Promise<RequestOutcome> {
    const { res, gw } = this;
    const backend = lease.backend;
    const streamKind = isStreamingType(upstream.headers['content-type'] as string | undefined);
    let firstToken = true;
    const onLiveTokens = (count: number) => {
      backend.tokenRate.add(count);
      if (firstToken) {
        firstToken = false;
        const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
        gw.metrics.timeToFirstToken.observe({ model }, seconds);
      }
    };
    const ok = upstream.statusCode === 200;
    const tap = this.route.generation && ok ? new UsageTap(onLiveTokens) : undefined;
    const filter = this.stripUsageEvent && ok && streamKind === 'sse' ? new UsageEventFilter() : undefined;
    const headers = responseHeaders(upstream.headers, backend);
    if (filter) delete headers['content-length'];
    res.writeHead(upstream.statusCode, headers);
    res.flushHeaders();
    let lastByte = 10; // '\n'
    const body = upstream.body;

    return new Promise<RequestOutcome>((resolve) => {
      const onData = (chunk: Buffer) => {
        tap?.push(chunk);
        const out = filter ? filter.push(chunk) : chunk;
        if (out.length === 0) return;
        lastByte = out[out.length - 1] ?? lastByte;
        if (!res.write(out)) {
          body.pause();
          res.once('drain', () => body.resume());
        }
      };
      const finish = (outcome: RequestOutcome) => {
        body.off('data', onData);
        lease.release();
        resolve(outcome);
      };
      body.on('data', onData);
      body.once('end', () => {
        const usage = tap?.end();
        if (usage) this.countTokens(model, backend, usage, tap?.liveTokens ?? 0);
        gw.health.reportSuccess(backend);
        res.end(filter?.end());
        finish(
          upstream.statusCode < 400 ? 'ok' : upstream.statusCode < 500 ? 'client_error' : 'upstream_error',
        );
      });
      body.once('error', (error: unknown) => {
        if (this.controller.signal.aborted && !gw.drainSignal.aborted) {
          finish('cancelled');
          return;
        }
        const reason = gw.drainSignal.aborted ? 'the gateway is shutting down' : describeFailure(error);
        if (!gw.drainSignal.aborted) gw.health.reportFailure(backend, `stream broke: ${reason}`);
        gw.logger.warn('stream broke after bytes were sent', { backend: backend.id, reason });
        if (streamKind && !res.destroyed) {
          res.end(finalErrorLine(streamKind, `backend stream ended early: ${reason}`, lastByte === 10));
        } else {
          res.destroy();
        }
        finish('stream_broken');
      });
    });
  }

  private countTokens(
    model: string,
    backend: Backend,
    usage: { generated: number; prompt: number },
    live: number,
  ): void {
    const labels = { model, backend: backend.id };
    if (usage.generated > 0) this.gw.metrics.generatedTokens.inc(labels, usage.generated);
    if (usage.prompt > 0) this.gw.metrics.promptTokens.inc(labels, usage.prompt);
    // Content lines already fed the rate as they passed; the final count settles the difference.
    backend.tokenRate.add(usage.generated - live);
  }
}

export function mountProxyRoutes(app: Express, gw: GatewayContext): void {
  const rawBody = express.raw({ type: () => true, limit: gw.config.BODY_LIMIT });
  for (const route of MODEL_ROUTES) {
    app.post(route.path, (req, res, next) => {
      rawBody(req, res, (error?: unknown) => {
        if (error) {
          if ((error as { type?: unknown }).type === 'request.aborted') return;
          const status = (error as { status?: unknown }).status;
          const appError =
            status === 413
              ? new AppError('payload_too_large', 'The request body is larger than this gateway accepts.')
              : new AppError('bad_request', 'The request body could not be read.');
          sendWireError(res, route.family, appError);
          return;
        }
        new ProxiedRequest(gw, route, req, res).run().catch(next);
      });
    });
  }
}
