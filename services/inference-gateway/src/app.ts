import type { RequestListener } from 'node:http';
import { ConfigError, type ServiceKit, createHttpApp, withDirectRoutes } from '@corral/service-kit';
import { connectRedis } from '@corral/service-kit/redis';
import { type AdminTokenVerifier, requireAdmin, requireServiceToken } from './auth.js';
import type { GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { type Discovery, StaticDiscovery } from './domain/discovery.js';
import { HealthMonitor } from './domain/health.js';
import { ModelInventory } from './domain/inventory.js';
import {
  KubernetesDiscovery,
  kubernetesEndpointSliceApi,
  podNamespace,
} from './domain/kubernetes-discovery.js';
import { BackendPool } from './domain/pool.js';
import { preloadModel } from './domain/preload.js';
import { Router } from './domain/router.js';
import { RedisSlots } from './domain/shared-slots.js';
import { UpstreamClient } from './domain/upstream.js';
import { boundedModel, createGatewayMetrics } from './metrics.js';
import { mountAdminRoutes } from './routes/admin.js';
import { mountPoolViews } from './routes/pool-views.js';
import { proxyRoutes } from './routes/proxy.js';

export interface GatewayDeps {
  /** Where backends come from; default: OLLAMA_URLS or Kubernetes, per OLLAMA_DISCOVERY. */
  discovery?: Discovery;
  /** Admin access tokens (JWTs) for /admin/*, besides the service token; index.ts builds it from AUTH_URL. */
  verifyAdminToken?: AdminTokenVerifier;
}

async function defaultDiscovery(kit: ServiceKit<GatewayConfig>): Promise<Discovery> {
  const { config } = kit;
  if (config.OLLAMA_DISCOVERY === 'static') {
    if (config.OLLAMA_URLS.length === 0) {
      throw new ConfigError(kit.name, ['OLLAMA_URLS: is required when OLLAMA_DISCOVERY=static']);
    }
    return new StaticDiscovery(config.OLLAMA_URLS);
  }
  const namespace = config.OLLAMA_K8S_NAMESPACE ?? (await podNamespace());
  if (!namespace) {
    throw new ConfigError(kit.name, [
      'OLLAMA_K8S_NAMESPACE: is required outside a pod when OLLAMA_DISCOVERY=kubernetes',
    ]);
  }
  return new KubernetesDiscovery(
    await kubernetesEndpointSliceApi(),
    {
      namespace,
      service: config.OLLAMA_K8S_SERVICE,
      port: config.OLLAMA_K8S_PORT,
      scheme: config.OLLAMA_K8S_SCHEME,
    },
    kit.logger,
  );
}

/** Builds the gateway: pool, discovery, health, inventory, router, then the HTTP routes. */
export async function createApp(
  kit: ServiceKit<GatewayConfig>,
  deps: GatewayDeps = {},
): Promise<RequestListener> {
  const { config, logger } = kit;
  if (config.NODE_ENV === 'production' && config.GATEWAY_SERVICE_TOKEN === undefined) {
    throw new ConfigError(kit.name, [
      'GATEWAY_SERVICE_TOKEN: is required in production (or GATEWAY_SERVICE_TOKEN_FILE); callers send it as a bearer token',
    ]);
  }
  const discovery = deps.discovery ?? (await defaultDiscovery(kit));
  const pool = new BackendPool(config.TOKENS_RATE_WINDOW_MS);
  const upstream = new UpstreamClient({
    connectMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    firstByteMs: config.FIRST_BYTE_TIMEOUT_MS,
    idleMs: config.STREAM_IDLE_TIMEOUT_MS,
  });
  let queueDepth = () => 0;
  const metrics = createGatewayMetrics(kit.metrics.registry, pool, () => queueDepth());
  let shared: RedisSlots | undefined;
  if (config.REDIS_URL) {
    // Never blocks a request on Redis: while it is away each replica counts its own slots.
    const redis = await connectRedis(kit, config.REDIS_URL, {
      critical: false,
      failFast: true,
      connectWaitMs: 3000,
      warning: 'redis unavailable: backend slots are counted in this replica only',
      warnEveryMs: 60_000,
    });
    shared = new RedisSlots(
      redis,
      { keyPrefix: config.REDIS_KEY_PREFIX, ttlMs: config.SLOT_LEASE_TTL_MS },
      logger,
    );
    kit.lifecycle.onShutdown('shared slots', () => shared?.close());
  }
  const router = new Router(
    pool,
    {
      strategy: config.ROUTING_STRATEGY,
      maxParallel: config.BACKEND_MAX_PARALLEL,
      queueMax: config.QUEUE_MAX,
      queueTimeoutMs: config.QUEUE_TIMEOUT_MS,
      coldWaitMs: config.COLD_LOAD_WAIT_MS,
      affinityLoadFactor: config.AFFINITY_LOAD_FACTOR,
      affinityWaitMs: config.AFFINITY_WAIT_MS,
      affinityIdleMs: config.AFFINITY_IDLE_MS,
      promptTokensPerSecond: config.PROMPT_TOKENS_PER_SECOND,
      loadEstimateMs: config.LOAD_ESTIMATE_MS,
    },
    {
      onQueueWait: (seconds) => metrics.queueWait.observe(seconds),
      onColdLoad: (model) => metrics.coldLoads.inc({ model: boundedModel(pool, model) }),
      onAffinity: (hit) => metrics.affinity.inc({ result: hit ? 'hit' : 'miss' }),
      preload: (model, backend) =>
        preloadModel(upstream, backend, model, config.KEEP_ALIVE, config.QUEUE_TIMEOUT_MS),
    },
    Date.now,
    shared,
  );
  queueDepth = () => router.queueDepth;
  const inventory = new ModelInventory(
    pool,
    upstream,
    { pollMs: config.INVENTORY_POLL_MS, timeoutMs: config.HEALTH_TIMEOUT_MS },
    logger,
  );
  const health = new HealthMonitor(
    pool,
    upstream,
    inventory,
    {
      intervalMs: config.HEALTH_INTERVAL_MS,
      timeoutMs: config.HEALTH_TIMEOUT_MS,
      ejectAfterFailures: config.EJECT_AFTER_FAILURES,
      ejectWindowMs: config.EJECT_WINDOW_MS,
      ejectBaseMs: config.EJECT_BASE_MS,
      ejectMaxMs: config.EJECT_MAX_MS,
    },
    logger,
    (backend) => metrics.ejections.inc({ backend: backend.id }),
  );
  // A backend is checked (version and models) as soon as it appears, not at the next tick.
  pool.onAdded((backend) => void health.check(backend));

  const gw: GatewayContext = {
    config,
    logger,
    pool,
    router,
    health,
    inventory,
    upstream,
    metrics,
    drainSignal: kit.lifecycle.drainSignal,
  };

  kit.readiness.register('backends', async () => {
    if (!pool.hasHealthy()) {
      throw new Error(`no healthy backend (${pool.size} known)`);
    }
  });

  await discovery.start({ upsert: (target) => pool.upsert(target), remove: (id) => pool.remove(id) });
  health.start();
  inventory.start();
  kit.lifecycle.onShutdown('upstream connections', () => upstream.close());
  kit.lifecycle.onShutdown('health and inventory timers', () => {
    health.stop();
    inventory.stop();
  });
  kit.lifecycle.onShutdown('discovery', () => discovery.stop());

  const app = createHttpApp(
    kit,
    (app) => {
      // Everything after service-kit's probes and /metrics needs the token (when one is configured).
      app.use(requireServiceToken(config.GATEWAY_SERVICE_TOKEN));
      app.use('/admin', requireAdmin(config.GATEWAY_SERVICE_TOKEN, deps.verifyAdminToken));
      mountPoolViews(app, gw);
      mountAdminRoutes(app, gw);
    },
    { jsonBody: false },
  );
  // The model routes skip express (its per-request work is a large share of a short stream's cost):
  // they have no express route at all.
  return withDirectRoutes(kit, app, proxyRoutes(gw));
}
