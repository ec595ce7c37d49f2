import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListeningServer {
  server: Server;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Cuts open (keep-alive, streaming) connections and stops listening. */
  close(): Promise<void>;
}

/** `http://127.0.0.1:<port>` of a server listening on 127.0.0.1. */
export const baseUrl = (server: Server): string =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Serves `handler` (an express app or any request listener) on a free port of 127.0.0.1. */
export async function listen(handler: RequestListener): Promise<ListeningServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: baseUrl(server),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface ServedApp<Ctx> {
  url: string;
  /** What the app was built with (its database, Redis, keys), for a test to look behind the API. */
  ctx: Ctx;
  /** Cuts open connections, stops listening, then shuts the service down. */
  close(): Promise<void>;
}

/**
 * A service's app in the test's own process on a free port, the way the service tests run one.
 * `build` is its createApp, handing the context it builds to `onContext`; `shutdown` runs after
 * the server has closed (the kit's shutdown hooks: pools and Redis clients closed).
 */
export async function serveApp<Ctx>(
  build: (onContext: (ctx: Ctx) => void) => Promise<RequestListener>,
  shutdown: () => Promise<unknown>,
): Promise<ServedApp<Ctx>> {
  let ctx: Ctx | undefined;
  const app = await build((built) => (ctx = built));
  if (ctx === undefined) throw new Error('the app was built without handing over its context');
  const server = await listen(app);
  return {
    url: server.url,
    ctx,
    async close() {
      await server.close();
      await shutdown();
    },
  };
}
