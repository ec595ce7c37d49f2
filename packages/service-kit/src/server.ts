import { type RequestListener, type Server, createServer } from 'node:http';
import {
  type AddressInfo,
  type ListenOptions,
  type Server as NetServer,
  createServer as createNetServer,
} from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from './errors.js';
import type { ServiceKit } from './kit.js';
import { shutdownTelemetry } from './telemetry.js';

export interface StartServerOptions {
  port: number;
  host?: string;
  /** Listen queue length (default HTTP_LISTEN_BACKLOG, 511): a burst of new connections larger than this is dropped until accepted. */
  backlog?: number;
  /** Listening sockets on the port (default HTTP_ACCEPT_SOCKETS): see `listenAcceptSockets`. */
  acceptSockets?: number;
  /** Install SIGTERM/SIGINT handlers that drain and exit (default true; tests pass false). */
  handleSignals?: boolean;
  /** After the drain, how the process ends: `process.exit(code)` by default. */
  exit?: (code: number) => void;
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** Sockets listening on the port (HTTP_ACCEPT_SOCKETS, or 1 where Node has no SO_REUSEPORT). */
  acceptSockets: number;
  /** Where Prometheus scrapes `/metrics` when METRICS_PORT is set (otherwise on `url`). */
  metricsUrl?: string;
  /** Stop accepting, let open requests and streams finish within the grace period, close pools. */
  shutdown(reason?: string): Promise<void>;
}

/** Time left for streams to end cleanly after `drainSignal` fires, before sockets are cut. */
const FINAL_DRAIN_MS = 1000;

export async function startServer(
  kit: ServiceKit,
  /** The express app, or a listener built with `withDirectRoutes`. */
  app: RequestListener,
  {
    port,
    host = kit.config.HOST,
    backlog = kit.config.HTTP_LISTEN_BACKLOG,
    acceptSockets = kit.config.HTTP_ACCEPT_SOCKETS,
    handleSignals = true,
    exit = (code) => process.exit(code),
  }: StartServerOptions,
): Promise<RunningServer> {
  const { config, logger, lifecycle, readiness } = kit;
  const server = createServer(app);
  // Slow clients (slowloris) may not hold a socket for longer than these.
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = config.HTTP_KEEPALIVE_TIMEOUT_MS;

  const extraListeners = await listenAcceptSockets(server, { port, host, backlog }, acceptSockets, logger);
  const address = server.address() as AddressInfo;
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlFor = (listening: Server) =>
    `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${(listening.address() as AddressInfo).port}`;
  const url = urlFor(server);
  const metricsServer = config.METRICS_PORT > 0 ? await startMetricsServer(kit, host) : undefined;
  logger.info('listening', {
    port: address.port,
    host,
    version: kit.version,
    ...(metricsServer ? { metricsPort: (metricsServer.address() as AddressInfo).port } : {}),
  });

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason = 'requested'): Promise<void> => {
    shutdownPromise ??= drainAndClose(reason);
    return shutdownPromise;
  };

  async function drainAndClose(reason: string): Promise<void> {
    logger.info('shutting down', { reason, openRequests: lifecycle.openRequests });
    readiness.markShuttingDown();
    if (config.SHUTDOWN_DELAY_MS > 0) await delay(config.SHUTDOWN_DELAY_MS);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const listener of extraListeners) listener.close();
    server.closeIdleConnections();
    // Keep-alive sockets whose last request ends during the drain are closed as they go idle.
    const closeIdle = () => server.closeIdleConnections();
    server.on('request', (_req, res) => res.once('finish', closeIdle));

    let drained = await lifecycle.waitForIdle(config.SHUTDOWN_GRACE_MS);
    if (!drained) {
      logger.warn('grace period over; ending open streams', { openRequests: lifecycle.openRequests });
      lifecycle.abortDrain();
      drained = await lifecycle.waitForIdle(FINAL_DRAIN_MS);
      if (!drained) server.closeAllConnections();
    }
    await Promise.race([closed, delay(FINAL_DRAIN_MS)]);
    // Scraped until the end, so the last seconds of the drain show up in Prometheus.
    if (metricsServer) {
      const metricsClosed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      metricsServer.closeAllConnections();
      await metricsClosed;
    }
    await lifecycle.runShutdownHooks(logger);
    await shutdownTelemetry().catch((error: unknown) => logger.warn('flushing traces failed', { error }));
    logger.info('stopped', { reason });
  }

  if (handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (shutdownPromise) {
        logger.warn('second signal; exiting now', { signal });
        exit(1);
        return;
      }
      void shutdown(signal).then(
        () => exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('unhandledRejection', (error) => {
      logger.error('unhandled promise rejection', { error });
    });
    process.on('uncaughtException', (error) => {
      logger.error('uncaught exception; exiting', { error });
      exit(1);
    });
  }

  return {
    server,
    port: address.port,
    url,
    acceptSockets: 1 + extraListeners.length,
    ...(metricsServer ? { metricsUrl: urlFor(metricsServer) } : {}),
    shutdown,
  };
}

function listen(target: NetServer, options: ListenOptions & { reusePort?: boolean }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    target.once('error', reject);
    target.listen(options, () => {
      target.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on the port with `count` sockets. Node (libuv) accepts one connection per listening socket
 * per event-loop turn, so when a thousand clients connect at once to a busy process, the last ones
 * wait a thousand turns in the listen queue (seconds). With SO_REUSEPORT (Node ≥ 22.12) the kernel
 * spreads new connections over `count` sockets, each accepted in the same turn, all handed to the
 * one HTTP server. On a Node without it the second bind fails and one socket is kept. Returns the
 * extra listeners (closed with the server).
 */
export async function listenAcceptSockets(
  server: Server,
  { port, host, backlog }: { port: number; host: string; backlog: number },
  count: number,
  logger: ServiceKit['logger'],
): Promise<NetServer[]> {
  if (count <= 1) {
    await listen(server, { port, host, backlog });
    return [];
  }
  if (port !== 0) {
    // SO_REUSEPORT would also let a second process of this user bind the port (a second `corral
    // start`, a stale instance) and silently take half its connections: a plain bind first keeps
    // EADDRINUSE for a port that is already taken.
    const probe = createNetServer();
    await listen(probe, { port, host, backlog: 1 });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
  await listen(server, { port, host, backlog, reusePort: true });
  const bound = (server.address() as AddressInfo).port;
  const extra: NetServer[] = [];
  for (let i = 1; i < count; i++) {
    // The HTTP server takes the connection as if its own socket had accepted it.
    const listener = createNetServer((socket) => server.emit('connection', socket));
    try {
      await listen(listener, { port: bound, host, backlog, reusePort: true });
    } catch (error) {
      logger.info('one listening socket only: this Node has no SO_REUSEPORT (reusePort needs ≥ 22.12)', {
        requested: count,
        error,
      });
      break;
    }
    extra.push(listener);
  }
  return extra;
}

/**
 * A listener of its own for Prometheus (METRICS_PORT): `GET /metrics` and nothing else, so the
 * public port, which the Ingress reaches, has no /metrics to leak.
 */
async function startMetricsServer(kit: ServiceKit, host: string): Promise<Server> {
  const { registry } = kit.metrics;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      const problem = new AppError('route_not_found', 'This port serves GET /metrics only.').toProblem();
      res.writeHead(problem.status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problem));
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        kit.logger.error('rendering metrics failed', { error });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  server.headersTimeout = kit.config.HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = kit.config.HTTP_REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: kit.config.METRICS_PORT, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
