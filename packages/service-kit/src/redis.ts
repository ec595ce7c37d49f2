import { Redis } from 'ioredis';
import type { ReadinessCheck } from './health.js';
import type { ServiceKit } from './kit.js';

export interface ConnectRedisOptions {
  /** false: the service still serves without Redis (a local fallback), so losing it reports `degraded`. */
  critical: boolean;
  /** Called on every connection error, e.g. to count them. */
  onError?: (error: unknown) => void;
  /**
   * Commands fail at once while disconnected (ioredis `enableOfflineQueue: false`) instead of
   * waiting for a reconnect: for callers that fall back to local state rather than hold a request.
   */
  failFast?: boolean;
  /** How long start-up waits for the first connection; it goes on without one either way. */
  connectWaitMs?: number;
  /** The warning logged for a connection error. */
  warning?: string;
  /** At most one warning per this many ms (a Redis that is down reports every reconnect attempt); 0: each. */
  warnEveryMs?: number;
  /** The readiness check's and shutdown hook's name. */
  name?: string;
}

/**
 * Opens Redis for a service: errors logged (and passed to `onError`), a readiness check, and a
 * shutdown hook. Connection errors never crash the process; ioredis keeps reconnecting.
 */
export async function connectRedis(
  kit: Pick<ServiceKit, 'logger' | 'readiness' | 'lifecycle'>,
  url: string,
  {
    critical,
    onError,
    failFast = false,
    connectWaitMs = 0,
    warning = 'redis error',
    warnEveryMs = 0,
    name = 'redis',
  }: ConnectRedisOptions,
): Promise<Redis> {
  const { logger, readiness, lifecycle } = kit;
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    ...(failFast ? { enableOfflineQueue: false } : {}),
  });

  let lastWarning = 0;
  client.on('error', (error: unknown) => {
    onError?.(error);
    if (lastWarning === 0 || Date.now() - lastWarning >= warnEveryMs) {
      lastWarning = Date.now();
      logger.warn(warning, { error });
    }
  });
  client.on('ready', () => {
    if (lastWarning > 0) logger.info(`${name} is reachable again`);
    lastWarning = 0;
  });

  readiness.register(name, redisCheck(client, { failFast, name }), { critical });
  // quit() waits for replies to commands already sent; a client that is not connected just stops.
  lifecycle.onShutdown(name, () =>
    client.status === 'ready' ? client.quit().catch(() => client.disconnect()) : client.disconnect(),
  );

  if (connectWaitMs > 0) await firstConnection(client, connectWaitMs);
  return client;
}

/** PING as a readiness check; `failFast` as in connectRedis. */
export function redisCheck(
  client: Redis,
  { failFast = false, name = 'redis' }: Pick<ConnectRedisOptions, 'failFast' | 'name'> = {},
): ReadinessCheck {
  return async () => {
    // Without the offline queue commands fail at once while disconnected: say so plainly.
    if (failFast && client.status !== 'ready') throw new Error(`${name} is ${client.status}`);
    await client.ping();
  };
}

/** Resolves on the first `ready` or `error`, or after `waitMs`, whichever comes first. */
function firstConnection(client: Redis, waitMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, waitMs);
    function done() {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('error', done);
      resolve();
    }
    client.once('ready', done);
    client.once('error', done);
  });
}
