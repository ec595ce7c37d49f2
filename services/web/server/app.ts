import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttpApp, type ServiceKit } from '@corral/service-kit';
import type { Express } from 'express';
import { type ClientConfig, clientConfig, clientConfigRoute } from './client-config.js';
import { ingressProxy } from './proxy.js';
import { securityHeaders } from './security.js';
import { spaRoutes } from './static.js';

export interface WebServerOptions {
  /** The built SPA (index.html + assets/). */
  staticDir: string;
  /** Local mode: set both to proxy /api, /v1 and /.well-known the way the Ingress does. */
  authUrl?: string | undefined;
  chatApiUrl?: string | undefined;
  gatewayUrl?: string | undefined;
  proxyTimeoutMs?: number;
  hstsMaxAgeSeconds?: number;
  /** Served as /config.json (what answers chat, from CORRAL_INFERENCE_*). */
  clientConfig?: ClientConfig;
}

/** dist/client beside dist/server (built), or services/web/dist/client when run from source. */
export function defaultStaticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(here) === 'server' && path.basename(path.dirname(here)) === 'dist'
    ? path.resolve(here, '../client')
    : path.resolve(here, '../dist/client');
}

/** The web service: security headers, the local-mode proxy, then the SPA. */
export function createWebServer(kit: ServiceKit, options: WebServerOptions): Express {
  const localMode = Boolean(options.authUrl && options.chatApiUrl);
  if (Boolean(options.authUrl) !== Boolean(options.chatApiUrl)) {
    kit.logger.warn('local mode needs both AUTH_URL and CHAT_API_URL; not proxying');
  }
  if (localMode) {
    kit.logger.info('local mode: proxying like the Ingress', {
      auth: options.authUrl,
      chatApi: options.chatApiUrl,
      gateway: options.gatewayUrl ?? 'not proxied',
    });
  }
  return createHttpApp(
    kit,
    (app) => {
      app.use(securityHeaders(options.hstsMaxAgeSeconds ?? 31_536_000));
      if (localMode && options.authUrl && options.chatApiUrl) {
        app.use(
          ingressProxy(
            { authUrl: options.authUrl, chatApiUrl: options.chatApiUrl, gatewayUrl: options.gatewayUrl },
            kit.logger,
            options.proxyTimeoutMs ?? 30_000,
          ),
        );
      }
      app.use(clientConfigRoute(options.clientConfig ?? clientConfig({})));
      app.use(spaRoutes(options.staticDir));
    },
    { jsonBody: false },
  );
}
