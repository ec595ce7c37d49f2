import { createHttpApp, requireJsonBody, type ServiceKit } from '@corral/service-kit';
import { connectPostgres } from '@corral/service-kit/postgres';
import { connectRedis, redisCheck } from '@corral/service-kit/redis';
import cookieParser from 'cookie-parser';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { type AuthConfig, checkAuthConfig } from './config.js';
import { type AuthContext, createAuthContext } from './context.js';
import { createDatabase, type Database, disconnectPrisma, pingDatabase } from './data/db.js';
import { seedBootstrapAdmin } from './domain/bootstrap.js';
import { pruneOldRevocations } from './domain/revocation.js';
import { applyMigrations } from './migrations.js';
import { adminRoutes } from './routes/admin.js';
import { apiKeyRoutes, introspectionRoutes } from './routes/api-keys.js';
import { oidcRoutes, publicConfigRoutes } from './routes/oidc.js';
import { sessionRoutes } from './routes/sessions.js';
import { wellKnownRoutes } from './routes/well-known.js';

export interface AuthDeps {
  /** Supplied by tests that share one pool between app instances; otherwise opened from DATABASE_URL. */
  db?: Database;
  redis?: Redis;
  /** Receives the context once built (tests inspect the database through it). */
  onContext?: (ctx: AuthContext) => void;
}

const HOUR_MS = 3_600_000;

/**
 * Builds the auth service: migrations (AUTO_MIGRATE), the first signing key, the bootstrap admin,
 * readiness checks for Postgres and Redis, then the routes. Everything opened here is closed by
 * the kit's shutdown hooks.
 */
export async function createApp(kit: ServiceKit<AuthConfig>, deps: AuthDeps = {}): Promise<Express> {
  const { config, logger, lifecycle, readiness } = kit;
  checkAuthConfig(config);

  if (config.AUTO_MIGRATE) {
    const result = await applyMigrations(config.DATABASE_URL, logger);
    logger.info('migrations applied', { schema: result.schema, applied: result.applied });
  }

  const db =
    deps.db ?? createDatabase(connectPostgres(kit, config.DATABASE_URL, { max: config.DATABASE_POOL_MAX }));
  // After the pool's shutdown hook, so it runs before it (hooks run in reverse): Prisma lets go first.
  if (!deps.db) lifecycle.onShutdown('prisma', () => disconnectPrisma(db));
  else readiness.register('postgres', () => pingDatabase(db));

  let redis = deps.redis;
  if (redis) {
    readiness.register('redis', redisCheck(redis));
  } else if (config.REDIS_URL) {
    redis = await connectRedis(kit, config.REDIS_URL, { critical: true });
  } else {
    logger.warn('REDIS_URL is not set: login throttling counts per process (fine for a single replica)');
  }

  const ctx = createAuthContext({ config, logger, registry: kit.metrics.registry, db, redis });
  deps.onContext?.(ctx);

  const kid = await ctx.keys.ensureActiveKey();
  await ctx.keys.publishedKeys();
  logger.info('signing key ready', { kid });
  await seedBootstrapAdmin(ctx);
  scheduleRotation(ctx, kit);
  schedulePruning(ctx, kit);

  return createHttpApp(kit, (app) => {
    // 415 for a body that is not JSON (it was ignored before).
    app.use(requireJsonBody);
    app.use(wellKnownRoutes(ctx));
    app.use(
      '/api/auth',
      cookieParser(),
      sessionRoutes(ctx),
      introspectionRoutes(ctx),
      publicConfigRoutes(ctx),
    );
    app.use('/api/auth/oidc', cookieParser(), oidcRoutes(ctx));
    app.use('/api/auth/api-keys', apiKeyRoutes(ctx));
    app.use('/api/auth/admin', adminRoutes(ctx));
  });
}

/** Hourly: revocation stamps older than any token they could refuse are deleted. */
function schedulePruning(ctx: AuthContext, kit: ServiceKit<AuthConfig>): void {
  const timer = setInterval(() => {
    pruneOldRevocations(ctx).catch((error: unknown) =>
      kit.logger.warn('pruning revocation stamps failed', { error }),
    );
  }, HOUR_MS);
  timer.unref();
  kit.lifecycle.onShutdown('revocation-pruning', () => clearInterval(timer));
}

/** SIGNING_KEY_ROTATION_DAYS > 0: check hourly and rotate a key that has grown too old. */
function scheduleRotation(ctx: AuthContext, kit: ServiceKit<AuthConfig>): void {
  const days = ctx.config.SIGNING_KEY_ROTATION_DAYS;
  if (days <= 0) return;
  const timer = setInterval(() => {
    ctx.keys.rotateIfOlderThan(days * 24 * HOUR_MS).then(
      async (kid) => {
        if (!kid) return;
        kit.logger.info('signing key rotated on schedule', { kid });
        await ctx.audit.record({ action: 'signing_key.rotated', targetType: 'signing_key', targetId: kid });
      },
      (error: unknown) => kit.logger.error('scheduled signing key rotation failed', { error }),
    );
  }, HOUR_MS);
  timer.unref();
  kit.lifecycle.onShutdown('key-rotation', () => clearInterval(timer));
}
