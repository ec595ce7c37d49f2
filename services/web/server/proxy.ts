import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, type Logger } from '@corral/service-kit';
import type { RequestHandler } from 'express';
import type { createProxyMiddleware as CreateProxyMiddleware } from 'http-proxy-middleware';

export interface UpstreamTargets {
  authUrl: string;
  chatApiUrl: string;
  /**
   * Where the gateway's admin routes (/admin/backends, /admin/models) go. Unset (in a cluster, where
   * the gateway is private and admins use chat-api's /api/admin relay): not proxied, the SPA's pages.
   */
  gatewayUrl?: string | undefined;
}

/**
 * A browser opening a page (reload, bookmark, typed address), not a script or curl calling an API:
 * Chromium and Firefox send `Sec-Fetch-Mode: navigate`; older browsers ask for HTML first.
 */
export function isPageNavigation(req: Pick<IncomingMessage, 'method' | 'headers'>): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  return /^\s*text\/html/.test(String(req.headers.accept ?? ''));
}

/**
 * Which upstream a path belongs to, the way the Ingress routes it; undefined = not proxied.
 * `navigation`: a browser opening the page, so the SPA's own /admin/* pages win over the gateway's
 * admin API (a reload of Admin → Model pool is the page, not the gateway's 401).
 */
export function upstreamFor(path: string, targets: UpstreamTargets, navigation = false): string | undefined {
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/api/auth') || under('/.well-known')) return targets.authUrl;
  if (under('/admin/backends') || under('/admin/models')) return navigation ? undefined : targets.gatewayUrl;
  if (under('/api') || under('/v1')) return targets.chatApiUrl;
  return undefined;
}

export const isProxiedPath = (path: string): boolean =>
  upstreamFor(path, { authUrl: 'a', chatApiUrl: 'c' }) !== undefined;

/**
 * Local mode: one proxy that stands in for the Ingress. Bodies stream both ways untouched, so
 * Server-Sent Events reach the browser token by token (no compression, no buffering here).
 */
export function ingressProxy(targets: UpstreamTargets, logger: Logger, timeoutMs: number): RequestHandler {
  // Imported only in local mode (behind an Ingress it is never needed): http-proxy-middleware and
  // its dependencies hold ~10 MB once loaded. Loading starts now, so it is ready before traffic.
  const loading = import('http-proxy-middleware').then(({ createProxyMiddleware }) =>
    createProxy(createProxyMiddleware, targets, logger, timeoutMs),
  );
  let proxy: RequestHandler | undefined;
  loading.then(
    (ready) => (proxy = ready),
    (error: unknown) => logger.error('local-mode proxy failed to load', { error }),
  );
  return (req, res, next) => {
    if (proxy) {
      proxy(req, res, next);
      return;
    }
    loading.then((ready) => ready(req, res, next), next);
  };
}

function createProxy(
  createProxyMiddleware: typeof CreateProxyMiddleware,
  targets: UpstreamTargets,
  logger: Logger,
  timeoutMs: number,
): RequestHandler {
  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    router: (req) => upstreamFor(req.url ?? '/', targets, isPageNavigation(req)) ?? targets.chatApiUrl,
    target: targets.chatApiUrl,
    pathFilter: (path, req) => upstreamFor(path, targets, isPageNavigation(req)) !== undefined,
    changeOrigin: false,
    xfwd: true,
    proxyTimeout: timeoutMs,
    on: {
      // The client as this server sees it (its own TRUST_PROXY), not appended to what the client
      // claimed: services behind trust this proxy's X-Forwarded-For for throttling.
      proxyReq: (proxyReq, req) => {
        const client = (req as { ip?: string }).ip ?? req.socket.remoteAddress;
        if (client) proxyReq.setHeader('x-forwarded-for', client);
      },
      proxyRes: (proxyRes) => {
        // Nginx-style proxies in front of us must not buffer event streams either.
        if (String(proxyRes.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          proxyRes.headers['x-accel-buffering'] = 'no';
        }
      },
      error: (error, req, res) => {
        logger.warn('upstream request failed', { path: req.url, error: error.message });
        if (!('writeHead' in res)) {
          (res as Socket).destroy();
          return;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const problem = new AppError(
          'bad_gateway',
          'The service behind this path did not answer.',
        ).toProblem();
        res.writeHead(502, { 'Content-Type': 'application/problem+json' });
        res.end(JSON.stringify(problem));
      },
    },
  });
  return proxy as unknown as RequestHandler;
}
