import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import cors from 'cors';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { assertJsonBody } from './body.js';
import { AppError } from './errors.js';
import type { ServiceKit } from './kit.js';
import { runWithRequestContext } from './logger.js';
import { type ErrorRenderer, renderProblem, respondWithError } from './wire-errors.js';

const REQUEST_ID_PATTERN = /^[\w.:@/-]{1,128}$/;
const PROBE_PATHS = new Set(['/healthz', '/health', '/readyz', '/ready', '/metrics']);

/** The route template (`/api/conversations/:id`), never the raw path, so metrics stay low-cardinality. */
export function routeTemplate(req: Request, path = req.path): string {
  const routePath = (req.route as { path?: unknown } | undefined)?.path;
  if (routePath === undefined) return PROBE_PATHS.has(path) ? path : '<unmatched>';
  return `${req.baseUrl}${String(routePath)}`;
}

interface ObservedRequest {
  requestId: string;
  context: { requestId: string };
}

/**
 * Request id, in-flight tracking, duration histogram and one access-log line for one request,
 * whether express or a direct route (see `withDirectRoutes`) answers it.
 */
function observeRequest(
  kit: ServiceKit,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  describe: () => { route: string; ip: string | undefined },
): ObservedRequest {
  const { logger, metrics, lifecycle, readiness } = kit;
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (readiness.isShuttingDown) res.setHeader('Connection', 'close');
  const started = process.hrtime.bigint();
  metrics.requestsInFlight.inc();
  lifecycle.requestStarted();
  const context = { requestId };
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    metrics.requestsInFlight.dec();
    lifecycle.requestEnded();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A response that never finished was cut short by the client.
    const status = res.writableFinished ? res.statusCode : 499;
    const { route, ip } = describe();
    metrics.requestDuration.observe({ method: req.method ?? 'GET', route, status: String(status) }, seconds);
    const level = PROBE_PATHS.has(path) ? 'debug' : status >= 500 ? 'warn' : 'info';
    // The access line is built only when it will be written: this runs for every request.
    if (!logger.isLevelEnabled(level)) return;
    runWithRequestContext(context, () => {
      logger.log(level, 'request', {
        method: req.method,
        route,
        path,
        status,
        durationMs: Math.round(seconds * 1e4) / 10,
        ip,
      });
    });
  };
  res.once('finish', finish);
  res.once('close', finish);
  return { requestId, context };
}

/** The express middleware form of `observeRequest`. */
function observeRequests(kit: ServiceKit) {
  return (req: Request, res: Response, next: NextFunction) => {
    // Routers rewrite req.url while they run; the full path is taken before any of them do.
    const path = req.originalUrl.split('?', 1)[0] ?? req.originalUrl;
    const { requestId, context } = observeRequest(kit, req, res, path, () => ({
      route: routeTemplate(req, path),
      ip: req.ip,
    }));
    res.locals.requestId = requestId;
    runWithRequestContext(context, () => next());
  };
}

/**
 * A hot route answered by plain node:http, before express: streamed proxying, where express's
 * per-request work shows. It is the route's one entry point: read the body with `readBody` or
 * `readJsonBody`, throw (or reject with) an AppError, and the error is logged and answered as
 * express's would be, in the route's wire format.
 */
export interface DirectRoute {
  method: string;
  /** Exact path (no parameters); the query string is ignored when matching. Express has no route for it. */
  path: string;
  /** The wire format of its error answers (default problem+json): `openAiRenderer(…)`, `renderOllamaError`. */
  renderError?: ErrorRenderer;
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): void | Promise<void>;
}

/** CORS as every Corral service answers it: closed unless CORS_ALLOW_ORIGIN lists origins. */
function corsFor(kit: ServiceKit) {
  if (kit.config.CORS_ALLOW_ORIGIN.length === 0) return undefined;
  return cors({
    origin: kit.config.CORS_ALLOW_ORIGIN,
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining'],
  });
}

/**
 * The server's request listener: the direct routes answer their own requests, observed exactly as
 * express's are (request id, metrics, access log, drain tracking, CORS, error logging); everything
 * else goes to `app`. Paths match as express's do: case-insensitive, one trailing slash allowed.
 */
/** Express middleware: `assertJsonBody` for every request (415 for a body that is not JSON). */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  assertJsonBody(req);
  next();
}

export function withDirectRoutes(kit: ServiceKit, app: Express, routes: DirectRoute[]): RequestListener {
  const byKey = new Map(routes.map((route) => [`${route.method} ${route.path.toLowerCase()}`, route]));
  const allowCors = corsFor(kit);
  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const route =
      byKey.get(`${req.method} ${path}`) ??
      byKey.get(`${req.method} ${path.toLowerCase().replace(/(?<=.)\/$/, '')}`);
    if (route === undefined) {
      app(req, res);
      return;
    }
    const { requestId, context } = observeRequest(kit, req, res, path, () => ({
      route: route.path,
      ip: req.socket.remoteAddress,
    }));
    const fail = (error: unknown) =>
      respondWithError(kit.logger, req, res, route.path, error, route.renderError);
    const run = () => {
      try {
        route.handle(req, res, requestId)?.catch(fail);
      } catch (error) {
        fail(error);
      }
    };
    runWithRequestContext(context, () => (allowCors ? allowCors(req, res, run) : run()));
  };
}

function mountProbes(app: Express, kit: ServiceKit): void {
  const live = (_req: Request, res: Response) => {
    res.json({ status: 'ok', service: kit.name, version: kit.version });
  };
  const ready = async (_req: Request, res: Response) => {
    const report = await kit.readiness.evaluate();
    const serving = report.status === 'ready' || report.status === 'degraded';
    res.status(serving ? 200 : 503).json({ ...report, service: kit.name });
  };
  app.get(['/healthz', '/health'], live);
  app.get(['/readyz', '/ready'], ready);
  // With METRICS_PORT set, startServer serves /metrics on that port and the public one has none.
  if (kit.config.METRICS_PORT === 0) {
    app.get('/metrics', async (_req, res) => {
      res.type(kit.metrics.registry.contentType).send(await kit.metrics.registry.metrics());
    });
  }
}

function sendProblem(kit: ServiceKit, renderError: HttpAppOptions['renderError']) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    respondWithError(kit.logger, req, res, req.path, error, (out, appError, requestId) => {
      if (renderError?.(appError, req, res)) return;
      renderProblem(out, appError, requestId);
    });
  };
}

export interface HttpAppOptions {
  /** Parse JSON bodies for every route (default). A proxying service may turn it off and stream bodies. */
  jsonBody?: boolean;
  /**
   * Answers an error in another wire format (e.g. OpenAI's `{"error":{…}}` under /v1) — also the
   * errors raised before any router runs, such as malformed JSON or 413. Returns true if it answered.
   */
  renderError?: (error: AppError, req: Request, res: Response) => boolean;
}

/**
 * Builds the express app every service uses: probes and metrics, request ids and access logs,
 * CORS (closed unless CORS_ALLOW_ORIGIN lists origins), a bounded JSON body parser, then the
 * service's own routes, then 404 and problem+json errors.
 */
export function createHttpApp(
  kit: ServiceKit,
  mountRoutes: (app: Express) => void,
  { jsonBody = true, renderError }: HttpAppOptions = {},
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', kit.config.TRUST_PROXY);
  app.set('query parser', 'simple');
  app.use(observeRequests(kit));
  mountProbes(app, kit);
  const allowCors = corsFor(kit);
  if (allowCors) app.use(allowCors);
  if (jsonBody) {
    app.use(express.json({ limit: kit.config.BODY_LIMIT, type: ['application/json', 'application/*+json'] }));
  }
  mountRoutes(app);
  app.use((req, _res, next) => {
    next(new AppError('route_not_found', `No route for ${req.method} ${req.path.slice(0, 200)}`));
  });
  app.use(sendProblem(kit, renderError));
  return app;
}
