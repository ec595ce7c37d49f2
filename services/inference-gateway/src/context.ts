import type { Logger } from '@corral/service-kit';
import type { GatewayConfig } from './config.js';
import type { HealthMonitor } from './domain/health.js';
import type { ModelInventory } from './domain/inventory.js';
import type { BackendPool } from './domain/pool.js';
import type { Router } from './domain/router.js';
import type { UpstreamClient } from './domain/upstream.js';
import type { GatewayMetrics } from './metrics.js';

/** What the routes work with; built once by createApp. */
export interface GatewayContext {
  config: GatewayConfig;
  logger: Logger;
  pool: BackendPool;
  router: Router;
  health: HealthMonitor;
  inventory: ModelInventory;
  upstream: UpstreamClient;
  metrics: GatewayMetrics;
  /** Aborted when the shutdown grace period is over: open streams end with a final error line. */
  drainSignal: AbortSignal;
}
