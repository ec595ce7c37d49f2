import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeModelName } from '@corral/contracts';
import { AppError, type DirectRoute, byteSize, readBody } from '@corral/service-kit';
import { serviceTokenError } from '../auth.js';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import {
  type EarlyFailure,
  Failover,
  failureToApp,
  outcomeOf,
  routingErrorToApp,
} from '../domain/failover.js';
import { CONVERSATION_HEADER, affinityKeyOf, applyKeepAlive } from '../domain/request-policy.js';
import { type Lease, RoutingError } from '../domain/router.js';
import type { UpstreamCall } from '../domain/upstream.js';
import { requestUsageOnBehalf } from '../domain/usage-event-filter.js';
import { type RequestOutcome, UNKNOWN_MODEL } from '../metrics.js';
import { Attempt, type AttemptResult, type RelayTarget, responseHeaders } from './relay.js';
import { WIRE_ERRORS, type WireFamily } from './wire-errors.js';

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

const ABORTED = 'the request was aborted';

/**
 * One proxied request: choose a backend, send, fail over (the domain's Failover decides) before
 * the first byte, relay chunk by chunk (relay.ts). Errors are thrown to the direct route, which
 * answers them in the route's wire format.
 */
class ProxiedRequest implements RelayTarget {
  readonly started = process.hrtime.bigint();
  readonly controller = new AbortController();
  readonly countsTokens: boolean;
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
  ) {
    this.countsTokens = route.generation;
  }

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
    let failed: AppError | undefined;
    try {
      const body = parseBody(this.rawBody);
      model = modelOf(body, this.route.modelFields);
      if (model === undefined) throw new AppError('bad_request', 'model is required');
      routedModel = normalizeModelName(model);
      const affinityKey = this.route.generation
        ? affinityKeyOf(this.req.headers[CONVERSATION_HEADER], routedModel, body)
        : undefined;
      outcome = await this.forward(routedModel, this.payloadFor(body), affinityKey);
    } catch (error) {
      const appError =
        error instanceof AppError
          ? error
          : error instanceof RoutingError
            ? routingErrorToApp(error, this.gw.router.retryAfterSeconds, this.availableModels, model)
            : new AppError('internal', 'An unexpected error occurred.', { cause: error });
      outcome = this.controller.signal.aborted ? 'cancelled' : outcomeOf(appError);
      if (!this.controller.signal.aborted) failed = appError;
    }
    this.active.delete(this);
    this.gw.metrics.requests.inc({ route: this.route.path, outcome });
    // Only names some backend holds become label values, so a client cannot grow the series.
    const modelLabel = routedModel && this.gw.pool.anyHolds(routedModel) ? routedModel : UNKNOWN_MODEL;
    this.gw.metrics.requestDuration.observe(
      { route: this.route.path, model: modelLabel, outcome },
      Number(process.hrtime.bigint() - this.started) / 1e9,
    );
    if (failed) throw failed;
  }

  private readonly availableModels = () => [...this.gw.pool.modelUnion().keys()].sort();

  /**
   * The body to send: as received, except that Ollama's routes carry the pool's keep_alive policy and
   * a /v1 chat stream also asks for its token counts.
   */
  private payloadFor(body: Record<string, unknown>): Buffer {
    if (this.route.family === 'ollama' && this.route.limited) {
      const policed = applyKeepAlive(body, {
        value: this.gw.config.KEEP_ALIVE,
        clientMayUnloadOrPin: this.gw.config.CLIENT_KEEP_ALIVE === 'allow',
      });
      if (policed) return Buffer.from(JSON.stringify(policed));
    }
    if (this.route.path === '/v1/chat/completions') {
      const withUsage = requestUsageOnBehalf(body);
      if (withUsage) {
        this.stripUsageEvent = true;
        return Buffer.from(JSON.stringify(withUsage));
      }
    }
    return this.rawBody as Buffer;
  }

  private async forward(
    model: string,
    body: Buffer,
    affinityKey: string | undefined,
  ): Promise<RequestOutcome> {
    const { signal } = this.controller;
    const failover = new Failover(this.gw.router, this.gw.health, model, {
      limited: this.route.limited,
      signal,
      affinityKey,
      promptBytes: body.length,
      onRetry: () => this.gw.metrics.retries.inc({ route: this.route.path }),
    });
    for (let attempt = 0; ; attempt++) {
      const lease = await failover.acquire(attempt);
      const backend = lease.backend;
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
        const failure = failover.connectFailed(backend, result.error);
        if (failover.shouldRetry(attempt, failure)) continue;
        throw failureToApp(failure);
      }
      const failure = failover.answeredError(backend, result.response);
      lease.release();
      if (signal.aborted) return 'cancelled';
      if (failover.shouldRetry(attempt, failure)) continue;
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

  /** No retry left: the backend's own error answer goes to the client as it was. */
  private passOn(failure: EarlyFailure, backend: Backend): RequestOutcome {
    const response = failure.response;
    if (!response) throw failureToApp(failure);
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
 * The model routes, each a direct route (service-kit's withDirectRoutes) and its one entry point:
 * the service token is checked before the body is read; the body (BODY_LIMIT, compressed or not)
 * is read by service-kit; errors are answered in the route family's wire format.
 */
export function proxyRoutes(gw: GatewayContext): DirectRoute[] {
  const limit = byteSize(gw.config.BODY_LIMIT);
  const active = new Set<ProxiedRequest>();
  // The shutdown grace period is over: open streams end now, with their final error line.
  gw.drainSignal.addEventListener(
    'abort',
    () => {
      for (const request of active) request.abort();
    },
    { once: true },
  );
  return MODEL_ROUTES.map((route) => ({
    method: 'POST',
    path: route.path,
    renderError: WIRE_ERRORS[route.family],
    handle: async (req, res, requestId) => {
      const denied = serviceTokenError(req.headers.authorization, gw.config.GATEWAY_SERVICE_TOKEN);
      if (denied) {
        req.resume();
        throw denied;
      }
      const body = await readBody(req, { limit });
      await new ProxiedRequest(gw, route, req, res, requestId, body, active).run();
    },
  }));
}
