import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { normalizeModelName } from '@corral/contracts';
import { AppError, type DirectRoute } from '@corral/service-kit';
import express, { type Express } from 'express';
import { serviceTokenError } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import { type Lease, RoutingError } from '../domain/router.js';
import { type UpstreamCall, type UpstreamSink, describeFailure } from '../domain/upstream.js';
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

function parseBody(raw: Buffer | undefined): Record<string, unknown> {
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

function forwardedHeaders(req: IncomingMessage, requestId: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  headers['x-request-id'] = requestId;
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

/** What one attempt on one backend came to. */
type AttemptResult =
  | { kind: 'failed'; error: unknown }
  | { kind: 'server_error'; response: { statusCode: number; headers: IncomingHttpHeaders; body: Buffer } }
  | { kind: 'relayed'; outcome: RequestOutcome };

const ABORTED = 'the request was aborted';

/** One proxied request: choose, send, fail over once before the first byte, relay chunk by chunk. */
class ProxiedRequest {
  readonly started = process.hrtime.bigint();
  readonly controller = new AbortController();
  private readonly tried = new Set<Backend>();
  /** The gateway asked for /v1 usage on the client's behalf: the usage event is not passed on. */
  stripUsageEvent = false;
  /** The upstream request running now: aborting it closes its connection, so the backend stops. */
  private call: UpstreamCall | undefined;

  constructor(
    readonly gw: GatewayContext,
    readonly route: ModelRoute,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    private readonly rawBody: Buffer | undefined,
    private readonly active: Set<ProxiedRequest>,
  ) {}

  /** The client went away, or the shutdown grace period is over: stop the backend's work at once. */
  abort(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    this.call?.abort(new Error(ABORTED));
  }

  async run(): Promise<void> {
    this.res.once('close', () => {
      if (!this.res.writableFinished) this.abort();
    });
    // The shutdown grace period is over: open streams end now, with their final error line.
    this.active.add(this);
    let outcome: RequestOutcome;
    let model: string | undefined;
    let routedModel: string | undefined;
    try {
      const body = parseBody(this.rawBody);
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
    this.active.delete(this);
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
    return this.rawBody as Buffer;
  }

  private async forward(model: string, body: Buffer): Promise<RequestOutcome> {
    const { signal } = this.controller;
    for (let attempt = 0; ; attempt++) {
      const lease = await this.acquire(model, attempt);
      const backend = lease.backend;
      this.tried.add(backend);
      if (signal.aborted) {
        lease.release();
        return 'cancelled';
      }
      const result = await this.attempt(lease, model, body);
      this.call = undefined;
      if (result.kind === 'relayed') return result.outcome;
      if (result.kind === 'failed') {
        lease.release();
        if (signal.aborted) return 'cancelled';
        const failure = this.classifyError(result.error);
        this.gw.health.reportFailure(backend, failure.reason);
        if (attempt === 0 && (await this.canRetry(model, failure))) continue;
        throw this.failureToApp(failure);
      }
      const failure = this.classifyStatus(result.response, backend);
      lease.release();
      if (signal.aborted) return 'cancelled';
      if (attempt === 0 && (await this.canRetry(model, failure))) continue;
      return this.passOn(failure, backend);
    }
  }

  /** Sends the request to the leased backend; resolves once it failed, answered 5xx, or was relayed. */
  private attempt(lease: Lease, model: string, body: Buffer): Promise<AttemptResult> {
    return new Promise<AttemptResult>((resolve) => {
      const attempt = new Attempt(this, lease, model, resolve);
      const call = this.gw.upstream.stream(
        lease.backend.url,
        this.route.path,
        { method: 'POST', headers: forwardedHeaders(this.req, this.requestId), body },
        attempt,
      );
      attempt.call = call;
      // An abort that came while the request was being sent reaches it now.
      if (!attempt.settled) this.call = call;
    });
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

  private classifyStatus(
    response: { statusCode: number; headers: IncomingHttpHeaders; body: Buffer },
    backend: Backend,
  ): EarlyFailure {
    if (response.statusCode === 503) {
      // Ollama's own queue is full: the backend is alive, only busy.
      this.gw.router.markBusy(backend);
      return { kind: 'busy', reason: 'backend busy (503)', response };
    }
    const reason = `answered ${response.statusCode}: ${response.body.toString('utf8').slice(0, 200)}`;
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

  countTokens(
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

/**
 * One request to one backend, fed by undici's parser as the answer arrives. A 5xx answer's body is
 * read (bounded) so it can be passed on if no retry is left; anything else is relayed to the client
 * as it comes, each chunk written in the same turn it arrived, never held back.
 */
class Attempt implements UpstreamSink {
  call: UpstreamCall | undefined;
  settled = false;
  private mode: 'headers' | 'error_body' | 'relay' = 'headers';
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private errorChunks: Buffer[] = [];
  private errorBytes = 0;
  // Relay state.
  private tap: UsageTap | undefined;
  private filter: UsageEventFilter | undefined;
  private streamKind: 'ndjson' | 'sse' | undefined;
  private lastByte = 10; // '\n'
  private wrote = false;
  private paused = false;
  private firstToken = true;

  constructor(
    private readonly request: ProxiedRequest,
    private readonly lease: Lease,
    private readonly model: string,
    private readonly done: (result: AttemptResult) => void,
  ) {}

  onResponse(statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    if (statusCode >= 500) {
      this.mode = 'error_body';
      return;
    }
    this.mode = 'relay';
    const { res, route } = this.request;
    this.streamKind = isStreamingType(headers['content-type'] as string | undefined);
    const ok = statusCode === 200;
    if (route.generation && ok) this.tap = new UsageTap(this.onLiveTokens);
    if (this.request.stripUsageEvent && ok && this.streamKind === 'sse') this.filter = new UsageEventFilter();
    const out = responseHeaders(headers, this.lease.backend);
    if (this.filter) delete out['content-length'];
    res.writeHead(statusCode, out);
    // The headers go out at once; when the first chunk came with them (the usual case), in one write.
    process.nextTick(flushHeadersIfIdle, this);
  }

  flushHeaders(): void {
    const { res } = this.request;
    if (!this.wrote && !res.writableEnded && !res.destroyed) res.flushHeaders();
  }

  onData(chunk: Buffer): void {
    if (this.settled) return;
    if (this.mode === 'relay') {
      this.relay(chunk);
      return;
    }
    if (this.mode !== 'error_body') return;
    this.errorBytes += chunk.length;
    if (this.errorBytes > MAX_ERROR_BODY_BYTES) {
      this.settleErrorBody(Buffer.concat(this.errorChunks));
      this.call?.abort(new Error('error body too large'));
      return;
    }
    this.errorChunks.push(chunk);
  }

  onEnd(): void {
    if (this.settled) return;
    if (this.mode === 'error_body') {
      this.settleErrorBody(Buffer.concat(this.errorChunks));
      return;
    }
    const { gw, res } = this.request;
    const backend = this.lease.backend;
    const usage = this.tap?.end();
    if (usage) this.request.countTokens(this.model, backend, usage, this.tap?.liveTokens ?? 0);
    gw.health.reportSuccess(backend);
    res.end(this.filter?.end());
    const status = this.statusCode;
    this.finish(status < 400 ? 'ok' : status < 500 ? 'client_error' : 'upstream_error');
  }

  onError(error: Error): void {
    if (this.settled) return;
    if (this.mode === 'headers') {
      this.settled = true;
      this.done({ kind: 'failed', error });
      return;
    }
    if (this.mode === 'error_body') {
      this.settleErrorBody(Buffer.alloc(0));
      return;
    }
    const { gw, res, controller } = this.request;
    const backend = this.lease.backend;
    if (controller.signal.aborted && !gw.drainSignal.aborted) {
      this.finish('cancelled');
      return;
    }
    const reason = gw.drainSignal.aborted ? 'the gateway is shutting down' : describeFailure(error);
    if (!gw.drainSignal.aborted) gw.health.reportFailure(backend, `stream broke: ${reason}`);
    gw.logger.warn('stream broke after bytes were sent', { backend: backend.id, reason });
    if (this.streamKind && !res.destroyed) {
      res.end(finalErrorLine(this.streamKind, `backend stream ended early: ${reason}`, this.lastByte === 10));
    } else {
      res.destroy();
    }
    this.finish('stream_broken');
  }

  private relay(chunk: Buffer): void {
    this.tap?.push(chunk);
    const out = this.filter ? this.filter.push(chunk) : chunk;
    if (out.length === 0) return;
    this.lastByte = out[out.length - 1] ?? this.lastByte;
    this.wrote = true;
    const { res } = this.request;
    if (!res.write(out) && !this.paused) {
      // Backpressure: the client reads slower than the backend writes.
      this.paused = true;
      this.call?.pause();
      res.once('drain', this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    this.paused = false;
    this.call?.resume();
  };

  private readonly onLiveTokens = (count: number): void => {
    this.lease.backend.tokenRate.add(count);
    if (this.firstToken) {
      this.firstToken = false;
      const seconds = Number(process.hrtime.bigint() - this.request.started) / 1e9;
      this.request.gw.metrics.timeToFirstToken.observe({ model: this.model }, seconds);
    }
  };

  private settleErrorBody(body: Buffer): void {
    this.settled = true;
    this.errorChunks = [];
    this.done({
      kind: 'server_error',
      response: { statusCode: this.statusCode, headers: this.headers, body },
    });
  }

  private finish(outcome: RequestOutcome): void {
    this.settled = true;
    if (this.paused) this.request.res.off('drain', this.onDrain);
    this.lease.release();
    this.done({ kind: 'relayed', outcome });
  }
}

function flushHeadersIfIdle(attempt: Attempt): void {
  attempt.flushHeaders();
}

/** How many bytes BODY_LIMIT allows ('32mb', '512kb', '1024'), as express's body parsers read it. */
export function byteLimit(limit: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(limit.trim());
  if (!match) throw new Error(`invalid byte size: ${limit}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

type BodyOutcome = { body: Buffer | undefined } | { error: 'too_large' | 'unreadable' } | { aborted: true };

/**
 * Reads a request body (no content encoding) into one Buffer, bounded by `limit`: what express.raw
 * does, without its per-request machinery. A single-chunk body (the usual case) is not copied.
 */
function readBody(req: IncomingMessage, limit: number, callback: (outcome: BodyOutcome) => void): void {
  const lengthHeader = req.headers['content-length'];
  const declared = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
  if (req.headers['transfer-encoding'] === undefined && Number.isNaN(declared)) {
    callback({ body: undefined });
    return;
  }
  if (declared > limit) {
    req.pause();
    callback({ error: 'too_large' });
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let received = 0;
  let settled = false;
  const cleanup = () => {
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      cleanup();
      req.pause();
      callback({ error: 'too_large' });
      return;
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  const onEnd = () => {
    cleanup();
    if (!Number.isNaN(declared) && received !== declared) {
      callback({ error: 'unreadable' });
      return;
    }
    callback({ body: chunks ? Buffer.concat(chunks, received) : (first ?? Buffer.alloc(0)) });
  };
  const onError = () => {
    cleanup();
    callback({ error: 'unreadable' });
  };
  const onClose = () => {
    // The client went away before the body was complete.
    if (!settled) {
      cleanup();
      callback({ aborted: true });
    }
  };
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', onError);
  req.once('close', onClose);
}

function isCompressed(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  return encoding !== undefined && encoding.toLowerCase() !== 'identity';
}

/**
 * The model routes. Express answers them only for compressed bodies (its parser inflates them);
 * every other request is a direct route: plain node:http, no express layers on the streamed path.
 * Returns the direct routes, for `withDirectRoutes`.
 */
export function mountProxyRoutes(app: Express, gw: GatewayContext): DirectRoute[] {
  const limit = byteLimit(gw.config.BODY_LIMIT);
  const rawBody = express.raw({ type: () => true, limit: gw.config.BODY_LIMIT });
  const active = new Set<ProxiedRequest>();
  // The shutdown grace period is over: open streams end now, with their final error line.
  gw.drainSignal.addEventListener(
    'abort',
    () => {
      for (const request of active) request.abort();
    },
    { once: true },
  );
  const direct: DirectRoute[] = [];
  for (const route of MODEL_ROUTES) {
    const bodyError = (res: ServerResponse, kind: 'too_large' | 'unreadable') => {
      const appError =
        kind === 'too_large'
          ? new AppError('payload_too_large', 'The request body is larger than this gateway accepts.')
          : new AppError('bad_request', 'The request body could not be read.');
      sendWireError(res, route.family, appError);
    };
    const start = (req: IncomingMessage, res: ServerResponse, requestId: string, body: Buffer | undefined) =>
      new ProxiedRequest(gw, route, req, res, requestId, body, active).run();
    // Behind express's requireServiceToken.
    app.post(route.path, (req, res, next) => {
      rawBody(req, res, (error?: unknown) => {
        if (error) {
          if ((error as { type?: unknown }).type === 'request.aborted') return;
          bodyError(res, (error as { status?: unknown }).status === 413 ? 'too_large' : 'unreadable');
          return;
        }
        const body = Buffer.isBuffer(req.body) ? req.body : undefined;
        start(req, res, res.locals.requestId as string, body).catch(next);
      });
    });
    direct.push({
      method: 'POST',
      path: route.path,
      accepts: (req) => !isCompressed(req),
      handle: (req, res, requestId) => {
        const denied = serviceTokenError(req.headers.authorization, gw.config.GATEWAY_SERVICE_TOKEN);
        if (denied) {
          req.resume();
          sendWireError(res, route.family, denied);
          return;
        }
        readBody(req, limit, (outcome) => {
          if ('aborted' in outcome) return;
          if ('error' in outcome) {
            bodyError(res, outcome.error);
            return;
          }
          start(req, res, requestId, outcome.body).catch((error: unknown) => {
            gw.logger.error('proxy failed', { error });
            if (!res.headersSent)
              sendWireError(res, route.family, new AppError('internal', 'An unexpected error occurred.'));
            else res.destroy();
          });
        });
      },
    });
  }
  return direct;
}
