import { createAuthenticator } from '@corral/auth-client';
import { createHttpApp, type ServiceKit } from '@corral/service-kit';
import type { Express, RequestHandler } from 'express';
import { Redis } from 'ioredis';
import type { ChatConfig } from './config.js';
import type { ChatContext } from './context.js';
import { connectDatabase, type Database } from './data/db.js';
import { GatewayClient } from './domain/gateway.js';
import { Generations } from './domain/generations.js';
import { RequestRateLimiter, StreamSlots } from './domain/limits.js';
import { StopBus } from './domain/stop-bus.js';
import { sweepInterruptedMessages } from './domain/sweep.js';
import { createChatMetrics } from './metrics.js';
import { applyMigrations } from './migrations.js';
import { conversationRoutes } from './routes/conversations.js';
import { messageRoutes } from './routes/messages.js';
import { modelAndUsageRoutes } from './routes/models.js';
import { openAiRoutes } from './routes/openai.js';
import { principal } from './routes/principal.js';

export interface ChatDeps {
  /** Supplied by tests that share one pool between app instances; otherwise opened from DATABASE_URL. */
  db?: Database;
  redis?: Redis;
  /** Receives the context once built (tests inspect the database through it). */
  onContext?: (ctx: ChatContext) => void;
}

/**
 * Builds chat-api: migrations (AUTO_MIGRATE), Postgres, Redis, the gateway client, the sweep of
 * replies a dead process left `streaming`, readiness checks, then the routes. Everything opened
 * here is closed by the kit's shutdown hooks.
 */
export async function createApp(kit: ServiceKit<ChatConfig>, deps: ChatDeps = {}): Promise<Express> {
  const { config, logger, lifecycle, readiness } = kit;
  const metrics = createChatMetrics(kit.metrics.registry);

  if (config.AUTO_MIGRATE) {
    const result = await applyMigrations(config.DATABASE_URL, logger);
    logger.info('migrations applied', { schema: result.schema, applied: result.applied });
  }

  const db = deps.db ?? connectDatabase(config.DATABASE_URL);
  if (!deps.db) lifecycle.onShutdown('postgres', () => db.close());
  readiness.register('postgres', () => db.pool.query('SELECT 1'));

  let redis = deps.redis;
  if (!redis && config.REDIS_URL) {
    const client = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
    client.on('error', (error: unknown) => {
      metrics.redisErrors.inc({ operation: 'connection' });
      logger.warn('redis error', { error });
    });
    lifecycle.onShutdown('redis', () => client.quit());
    redis = client;
  }
  if (redis) {
    const client = redis;
    readiness.register('redis', () => client.ping());
  } else {
    logger.warn(
      'REDIS_URL is not set: rate limits, stream slots and stop work per process (one replica only)',
    );
  }

  const gateway = new GatewayClient({
    baseUrl: config.GATEWAY_URL,
    timeoutMs: config.GATEWAY_TIMEOUT_MS,
    idleTimeoutMs: config.GATEWAY_IDLE_TIMEOUT_MS,
  });
  lifecycle.onShutdown('gateway', () => gateway.close());
  readiness.register('gateway', (signal) => gateway.version(signal));

  const generations = new Generations({
    db,
    gateway,
    logger,
    metrics,
    flushIntervalMs: config.STREAM_FLUSH_INTERVAL_MS,
    flushTokens: config.STREAM_FLUSH_TOKENS,
    staleSeconds: config.STREAM_STALE_SECONDS,
  });
  const stopBus = new StopBus(redis, config.REDIS_KEY_PREFIX, logger, metrics);
  await stopBus.listen((messageId) => generations.stop(messageId));
  // Reverse order on the way out: replies are saved as interrupted before the bus and pools close.
  lifecycle.onShutdown('stop-bus', () => stopBus.close());
  lifecycle.onShutdown('generations', () => generations.interruptAll());
  lifecycle.drainSignal.addEventListener('abort', () => void generations.interruptAll());

  await runSweep(kit, db, generations, metrics);
  const sweepTimer = setInterval(
    () => void runSweep(kit, db, generations, metrics),
    config.SWEEP_INTERVAL_SECONDS * 1000,
  );
  sweepTimer.unref();
  lifecycle.onShutdown('sweep', () => clearInterval(sweepTimer));

  const auth = createAuthenticator({
    jwksUrl: `${config.AUTH_URL}/.well-known/jwks.json`,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    introspectionUrl: `${config.AUTH_URL}/api/auth/introspect`,
    serviceToken: config.INTERNAL_SERVICE_TOKEN,
    introspectionCacheMs: config.API_KEY_CACHE_MS,
    logger,
  });

  const ctx: ChatContext = {
    config,
    logger,
    db,
    prisma: db.prisma,
    gateway,
    generations,
    slots: new StreamSlots(config.MAX_CONCURRENT_STREAMS, redis, config.REDIS_KEY_PREFIX, logger, metrics),
    rateLimiter: new RequestRateLimiter(
      config.RATE_LIMIT_PER_MINUTE,
      redis,
      config.REDIS_KEY_PREFIX,
      logger,
      metrics,
    ),
    stopBus,
    metrics,
    auth,
  };
  deps.onContext?.(ctx);

  const rateLimit: RequestHandler = (req, res, next) => {
    ctx.rateLimiter.consume(principal(req).userId).then(({ headers }) => {
      res.set(headers);
      next();
    }, next);
  };
  const guard = [auth.requireAuth, rateLimit];

  return createHttpApp(kit, (app) => {
    app.use('/api/conversations', ...guard, conversationRoutes(ctx), messageRoutes(ctx));
    app.use('/api', ...guard, modelAndUsageRoutes(ctx));
    app.use('/v1', openAiRoutes(ctx, guard));
  });
}

async function runSweep(
  kit: ServiceKit<ChatConfig>,
  db: Database,
  generations: Generations,
  metrics: ReturnType<typeof createChatMetrics>,
): Promise<void> {
  try {
    const swept = await sweepInterruptedMessages(
      db,
      kit.config.STREAM_STALE_SECONDS,
      generations.activeIds(),
    );
    if (swept.length > 0) {
      metrics.sweptMessages.inc(swept.length);
      kit.logger.warn('replies left streaming by a stopped process marked interrupted', {
        count: swept.length,
      });
    }
  } catch (error) {
    kit.logger.error('sweep of interrupted replies failed', { error });
  }
}
