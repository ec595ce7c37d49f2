import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ADMIN_PREFIX, adminRoutes } from './admin-routes.js';
import { SimHttpError, parseJsonObject, readBody, sendJson, sendText } from './http-util.js';
import { ollamaRoutes } from './ollama-routes.js';
import { openAIError, openAIRoutes, retrieveModelRoute } from './openai-routes.js';
import type { Route, RouteContext } from './routes.js';
import type { SimRuntime } from './runtime.js';

const apiRoutes: Record<string, Route> = { ...ollamaRoutes, ...openAIRoutes };

function sendError(res: ServerResponse, path: string, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, path.startsWith('/v1/') ? openAIError(status, message) : { error: message });
}

/** Applies refuse / 500 / hang before routing; returns true when the request is dealt with. */
function injectFailure(
  rt: SimRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
  route?: Route,
) {
  const failure = rt.takeFailure(ctx.path, route?.generation === true);
  if (!failure) return false;
  switch (failure.mode) {
    case 'refuse':
      rt.stats.failures.refused++;
      req.socket.destroy();
      return true;
    case 'error-500':
      rt.stats.failures.error500++;
      sendError(res, ctx.path, 500, failure.message ?? 'ollama-sim: simulated internal server error');
      return true;
    case 'hang':
      rt.stats.failures.hung++;
      rt.hung.add(res);
      res.on('close', () => rt.hung.delete(res));
      return true;
    case 'drop-mid-stream':
      ctx.dropAfterTokens = failure.afterTokens;
      return false;
    default:
      return false;
  }
}

async function routeRequest(rt: SimRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const receivedAt = process.hrtime.bigint();
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const key = `${req.method ?? 'GET'} ${path}`;
  const ctx: RouteContext = { rt, req, res, path, body: {}, receivedAt };
  const isAdmin = path.startsWith(ADMIN_PREFIX);
  const route = isAdmin
    ? adminRoutes[key]
    : (apiRoutes[key] ?? (req.method === 'GET' ? retrieveModelRoute(path) : undefined));

  if (!isAdmin) {
    rt.countRequest(route ? key : 'other');
    if (rt.closing) return sendError(res, path, 503, 'ollama-sim is shutting down');
    if (injectFailure(rt, req, res, ctx, route)) return;
  }
  if (!route) return sendText(res, 404, '404 page not found');
  try {
    if (route.jsonBody) ctx.body = parseJsonObject(await readBody(req));
    await route.handle(ctx);
  } catch (error) {
    if (error instanceof SimHttpError) return sendError(res, path, error.status, error.message);
    sendError(res, path, 500, `ollama-sim internal error: ${(error as Error).message}`);
  }
}

export function createSimServer(rt: SimRuntime): Server {
  const server = createServer((req, res) => void routeRequest(rt, req, res));
  // Benchmarks open thousands of streams; Node's defaults would time out idle-looking ones.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Ends every open stream and hung request, then stops listening. */
export function closeSimServer(rt: SimRuntime, server: Server): Promise<void> {
  rt.closing = true;
  rt.scheduler.close();
  rt.prefill.close();
  for (const run of [...rt.inFlight]) run.abort();
  for (const res of [...rt.hung]) res.destroy();
  rt.hung.clear();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
