import type { RequestListener } from 'node:http';
import { createAuthenticator, requireRole, requireScope } from '@corral/auth-client';
import {
  AppError,
  byteSize,
  createHttpApp,
  requireJsonBody,
  type ServiceKit,
  withDirectRoutes,
} from '@corral/service-kit';
import { connectPostgres } from '@corral/service-kit/postgres';
import { connectRedis, redisCheck } from '@corral/service-kit/redis';
import express, { type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { ChatConfig } from './config.js';
import type { ChatContext } from './context.js';
import { createDatabase, type Database, disconnectPrisma, pingDatabase } from './data/db.js';
import { LimitsStore } from './data/limits.js';
import { admitRequest } from './domain/admission.js';
import { GATEWAY_AUTH_FAILED, GatewayClient } from './domain/gateway.js';
import { BudgetReservations } from './domain/budget.js';
import { FinalSaves } from './domain/final-saves.js';
import { Generations } from './domain/generations.js';
import { type RequestKind, RequestRateLimiter, StreamSlots } from './domain/limits.js';
import { applyRetention } from './domain/retention.js';
import { MessageLimits } from './domain/message-limits.js';
import { ReplyEvents } from './domain/reply-events.js';
import { StopBus } from './domain/stop-bus.js';
import { sweepInterruptedMessages } from './domain/sweep.js';
import { deleteUnsentAttachments } from './data/attachments.js';
import { TitleWriter } from './domain/titles.js';
import { UsageLedger } from './domain/usage-ledger.js';
import { type ChatMetrics, createChatMetrics } from './metrics.js';
import { applyMigrations } from './migrations.js';
import { adminRoutes, chatSummaryRoutes } from './routes/admin.js';
import { chatCompletionsRoute } from './routes/chat-completions.js';
import { completionsRoute } from './routes/completions.js';
import { responsesRoute } from './routes/responses.js';
import { ATTACHMENT_UPLOAD_PATH, attachmentRoutes } from './routes/attachments.js';
import { conversationRoutes } from './routes/conversations.js';
import { messageRoutes } from './routes/messages.js';
import { modelAndUsageRoutes } from './routes/models.js';
import { openAiRoutes, renderOpenAiError } from './routes/openai.js';
import { poolRoutes } from './routes/pool.js';
import { bindAdmission, bindCaller } from './routes/principal.js';
import { GroupGrants } from './domain/group-grants.js';
import { AuditTrail } from './domain/audit-trail.js';
import { ModelAvailability } from './data/model-availability.js';
import { groupUsageRoutes } from './routes/group-usage.js';
import { IMPORT_PATH, JSON_TYPES, transferRoutes } from './routes/transfer.js';
import { adminFeedbackRoutes, feedbackRoutes } from './routes/feedback.js';
import { conversationFolderRoutes, folderRoutes } from './routes/folders.js';
import { libraryRoutes } from './routes/library.js';

const ACCESS_TOKEN_CACHE_MS = 60_000;
/** How long chat-api waits for auth's answer on a user's group grants (a cache miss). */
const GROUP_GRANTS_TIMEOUT_MS = 3000;

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
export async function createApp(kit: ServiceKit<ChatConfig>, deps: ChatDeps = {}): Promise<RequestListener> {
  const { config, logger, lifecycle, readiness } = kit;
  const metrics = createChatMetrics(kit.metrics.registry);

  if (config.AUTO_MIGRATE) {
    const result = await applyMigrations(config.DATABASE_URL, logger);
    logger.info('migrations applied', { schema: result.schema, applied: result.applied });
  }

  const db =
    deps.db ??
    createDatabase(
      connectPostgres(kit, config.DATABASE_URL, { searchPath: true, max: config.DATABASE_POOL_MAX }),
      { poolTimeoutMs: config.DATABASE_POOL_TIMEOUT_MS },
    );
  // After the pool's shutdown hook, so it runs before it (hooks run in reverse): Prisma lets go first.
  if (!deps.db) lifecycle.onShutdown('prisma', () => disconnectPrisma(db));
  else readiness.register('postgres', () => pingDatabase(db));
  // Registered before generations: hooks run in reverse, so replies interrupted at shutdown are
  // recorded first and the last batch is written before the pool closes.
  const usage = new UsageLedger(db, logger);
  lifecycle.onShutdown('usage', () => usage.close());

  let redis = deps.redis;
  if (redis) {
    readiness.register('redis', redisCheck(redis, { failFast: true }), { critical: false });
  } else if (config.REDIS_URL) {
    // Never blocks a request on Redis: commands fail at once while it is away and limits, slots and
    // stop fall back to this process (degraded, still serving). Start-up waits briefly, then goes on.
    redis = await connectRedis(kit, config.REDIS_URL, {
      critical: false,
      failFast: true,
      connectWaitMs: 3000,
      warning: 'redis unavailable: limits and stream slots are counted in this process',
      warnEveryMs: 60_000,
      onError: () => metrics.redisErrors.inc({ operation: 'connection' }),
    });
  } else {
    logger.warn(
      'REDIS_URL is not set: rate limits, stream slots and stop work per process (one replica only)',
    );
  }

  const gateway = new GatewayClient({
    baseUrl: config.GATEWAY_URL,
    timeoutMs: config.GATEWAY_TIMEOUT_MS,
    idleTimeoutMs: config.GATEWAY_IDLE_TIMEOUT_MS,
    serviceToken: config.GATEWAY_SERVICE_TOKEN,
    onAuthFailure: (status) =>
      logger.error(GATEWAY_AUTH_FAILED, { status, tokenConfigured: Boolean(config.GATEWAY_SERVICE_TOKEN) }),
  });
  lifecycle.onShutdown('gateway', () => gateway.close());
  // Without the gateway, history, settings and export still work and chat fails with a clear error:
  // taking every replica out of rotation would turn a model outage into a full outage.
  readiness.register('gateway', (signal) => gateway.version(signal), { critical: false });
  // Metric labels name only models the pool has (user input never becomes a label value).
  await metrics.models.follow(() => gateway.listModels(), logger);
  lifecycle.onShutdown('model-labels', () => metrics.models.close());

  // Registered before generations: the saves of replies interrupted at shutdown are pending here
  // if the database is away, and are then written to the spill file.
  const finalSaves = new FinalSaves({
    db,
    logger,
    metrics,
    spillFile: config.PENDING_SAVES_FILE,
    maxBytes: byteSize(config.PENDING_SAVES_MAX_BYTES),
  });
  lifecycle.onShutdown('final-saves', () => finalSaves.close());
  const generations = new Generations({
    db,
    gateway,
    logger,
    metrics,
    usage,
    finalSaves,
    flushIntervalMs: config.STREAM_FLUSH_INTERVAL_MS,
    flushTokens: config.STREAM_FLUSH_TOKENS,
    staleSeconds: config.STREAM_STALE_SECONDS,
  });
  const stopBus = new StopBus(redis, config.REDIS_KEY_PREFIX, logger, metrics);
  await stopBus.listen((messageId) => generations.stop(messageId));
  // Reverse order on the way out: replies are saved as interrupted before the bus and pools close.
  lifecycle.onShutdown('stop-bus', () => stopBus.close());
  const replyEvents = new ReplyEvents(
    redis,
    config.REDIS_KEY_PREFIX,
    { ttlSeconds: config.REPLY_EVENTS_TTL_SECONDS, maxEvents: config.REPLY_EVENTS_MAX },
    logger,
    metrics,
  );
  lifecycle.onShutdown('reply-events', () => replyEvents.close());
  lifecycle.onShutdown('generations', () => generations.interruptAll());
  lifecycle.drainSignal.addEventListener('abort', () => void generations.interruptAll());

  // What a previous process could not save goes in before the sweep looks for orphans.
  await finalSaves.replay();
  await runSweep(kit, db, generations, metrics);
  const sweepTimer = setInterval(
    () => void runSweep(kit, db, generations, metrics),
    config.SWEEP_INTERVAL_SECONDS * 1000,
  );
  sweepTimer.unref();
  lifecycle.onShutdown('sweep', () => clearInterval(sweepTimer));

  if (config.CHAT_RETENTION_DAYS > 0) {
    const runRetention = () => void enforceRetention(kit, db, metrics);
    // Not awaited: a large first clean-up must not hold up start-up.
    runRetention();
    const retentionTimer = setInterval(runRetention, config.RETENTION_INTERVAL_SECONDS * 1000);
    retentionTimer.unref();
    lifecycle.onShutdown('retention', () => clearInterval(retentionTimer));
  }

  const auth = createAuthenticator({
    jwksUrl: `${config.AUTH_URL}/.well-known/jwks.json`,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    introspectionUrl: `${config.AUTH_URL}/api/auth/introspect`,
    serviceToken: config.INTERNAL_SERVICE_TOKEN,
    introspectionCacheMs: config.API_KEY_CACHE_MS,
    // Every UI request carries the same access token for its lifetime: one RSA verification per
    // token a minute instead of one per request. A key auth removes works up to a minute longer.
    accessTokenCacheMs: ACCESS_TOKEN_CACHE_MS,
    logger,
    // Sign-out, disable, demotion: refused within seconds, cached principals included.
    revocations: { redis, channel: config.REVOCATION_CHANNEL },
  });
  lifecycle.onShutdown('revocations', () => auth.close());

  const titles = new TitleWriter({
    db,
    gateway,
    logger,
    metrics,
    usage,
    enabled: config.TITLE_GENERATION,
    model: config.TITLE_MODEL,
    timeoutMs: config.TITLE_TIMEOUT_MS,
  });
  lifecycle.onShutdown('titles', () => titles.close());

  const groups = new GroupGrants({
    authUrl: config.AUTH_URL,
    serviceToken: config.INTERNAL_SERVICE_TOKEN,
    cacheMs: config.USER_LIMITS_CACHE_MS,
    timeoutMs: GROUP_GRANTS_TIMEOUT_MS,
    logger,
  });
  const ctx: ChatContext = {
    config,
    logger,
    db,
    gateway,
    generations,
    budgets: new BudgetReservations(redis, config.REDIS_KEY_PREFIX, logger, metrics),
    slots: new StreamSlots(config.MAX_CONCURRENT_STREAMS, redis, config.REDIS_KEY_PREFIX, logger, metrics),
    limits: new LimitsStore(
      db,
      {
        requestsPerMinute: config.RATE_LIMIT_PER_MINUTE,
        dailyTokenBudget: config.DAILY_TOKEN_BUDGET,
        maxConcurrentStreams: config.MAX_CONCURRENT_STREAMS,
        dailyTokenBudgetPerKey: config.DAILY_TOKEN_BUDGET_PER_KEY,
        storageQuotaMb: config.DEFAULT_STORAGE_QUOTA_MB,
      },
      config.USER_LIMITS_CACHE_MS,
      groups,
    ),
    groups,
    availability: new ModelAvailability(db, config.USER_LIMITS_CACHE_MS, config.DEFAULT_MODEL),
    audit: new AuditTrail({
      authUrl: config.AUTH_URL,
      serviceToken: config.INTERNAL_SERVICE_TOKEN,
      timeoutMs: GROUP_GRANTS_TIMEOUT_MS,
      logger,
    }),
    titles,
    usage,
    rateLimiter: new RequestRateLimiter(
      config.RATE_LIMIT_PER_MINUTE,
      redis,
      config.REDIS_KEY_PREFIX,
      logger,
      metrics,
    ),
    stopBus,
    replyEvents,
    messageLimits: new MessageLimits(gateway, config.MAX_MESSAGE_CHARS, logger),
    metrics,
    auth,
  };
  deps.onContext?.(ctx);

  // Limits are resolved here, once per request; the routes read them from the caller.
  const rateLimit: RequestHandler = (req, res, next) => {
    if (!req.auth) return next(new AppError('unauthorized'));
    const admission = admitRequest(ctx, req.auth, requestKind(req.method, req.originalUrl)).then(
      ({ caller, headers }) => {
        bindCaller(req, caller);
        // (A route that answered before admission ended, e.g. a missing scope, keeps its headers.)
        if (!res.headersSent) res.set(headers);
        return caller;
      },
    );
    // A reply in a conversation reads the conversation while the rate limit answers (two round
    // trips at once, not one after the other); the route waits for admission before it acts.
    if (req.method === 'POST' && CONVERSATION_REPLY_ROUTE.test(req.originalUrl.split('?')[0] ?? '')) {
      bindAdmission(req, admission);
      return next();
    }
    admission.then(() => next(), next);
  };
  const guard = [auth.requireAuth, rateLimit];

  const bodyJson = express.json({ limit: config.BODY_LIMIT, type: JSON_TYPES });
  const app = createHttpApp(
    kit,
    (app) => {
      // 415 for a body that is not JSON (it was left unread and the request answered without it);
      // an image upload is the one body that is raw bytes (its type is sniffed from them).
      app.use((req, res, next) =>
        req.method === 'POST' && ATTACHMENT_UPLOAD_PATH.test(req.path)
          ? next()
          : requireJsonBody(req, res, next),
      );
      // BODY_LIMIT everywhere but the import, which reads up to IMPORT_BODY_LIMIT after authentication.
      app.use((req, res, next) =>
        req.method === 'POST' && IMPORT_PATH.test(req.path) ? next() : bodyJson(req, res, next),
      );
      app.use(
        '/api/conversations',
        ...guard,
        transferRoutes(ctx),
        feedbackRoutes(ctx),
        conversationFolderRoutes(ctx),
        attachmentRoutes(ctx),
        conversationRoutes(ctx),
        messageRoutes(ctx),
      );
      // Admin relays: a session, or an admin's key that was granted the admin scope.
      const adminOnly = [...guard, requireScope('admin'), requireRole('admin')];
      app.use(
        '/api/admin',
        ...adminOnly,
        adminRoutes(ctx),
        poolRoutes(ctx),
        groupUsageRoutes(ctx),
        adminFeedbackRoutes(ctx),
      );
      app.use('/api/folders', ...guard, folderRoutes(ctx));
      app.use('/api/metrics', ...adminOnly, chatSummaryRoutes(ctx));
      // One guard for both (a second `app.use('/api', ...guard, …)` would authenticate again).
      app.use('/api', ...guard, libraryRoutes(ctx), modelAndUsageRoutes(ctx));
      app.use('/v1', openAiRoutes(ctx, [...guard, requireScope('inference')]));
    },
    { jsonBody: false, renderError: renderOpenAiError },
  );
  // The busiest route skips express altogether: POST /v1/chat/completions has no express route.
  return withDirectRoutes(kit, app, [chatCompletionsRoute(ctx), completionsRoute(ctx), responsesRoute(ctx)]);
}

/** Send, regenerate and edit: routes that start a reply in an existing conversation. */
const CONVERSATION_REPLY_ROUTE = /^\/api\/conversations\/[^/]+\/messages(?:\/[^/]+\/(?:regenerate|edit))?$/;

/** The web's routes that start a reply (send, regenerate, edit, and a new chat with its first message). */
const GENERATING_ROUTE = /^\/api\/conversations\/(?:[^/]+\/messages(?:\/[^/]+\/(?:regenerate|edit))?|start)$/;

/** Every /v1 call and every route that starts a reply counts against the model limit; the rest are reads. */
export function requestKind(method: string, url: string): RequestKind {
  const path = url.split('?')[0] ?? '';
  if (path === '/v1' || path.startsWith('/v1/')) return 'generation';
  return method === 'POST' && GENERATING_ROUTE.test(path) ? 'generation' : 'read';
}

async function enforceRetention(kit: ServiceKit<ChatConfig>, db: Database, metrics: ChatMetrics) {
  try {
    const result = await applyRetention(db, kit.config.CHAT_RETENTION_DAYS);
    metrics.retentionDeleted.inc(result.conversations);
    if (result.conversations > 0) kit.logger.info('retention: old conversations deleted', { ...result });
  } catch (error) {
    kit.logger.error('retention job failed', { error });
  }
}

/** An upload not sent with a message within this time is deleted by the sweep. */
const UNSENT_ATTACHMENT_MS = 24 * 3600 * 1000;

async function runSweep(
  kit: ServiceKit<ChatConfig>,
  db: Database,
  generations: Generations,
  metrics: ChatMetrics,
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
  try {
    // Images uploaded for a message that was never sent (the tab was closed) go after a day.
    const unsent = await deleteUnsentAttachments(db, new Date(Date.now() - UNSENT_ATTACHMENT_MS));
    if (unsent > 0) kit.logger.info('unsent attachments deleted', { count: unsent });
  } catch (error) {
    kit.logger.error('sweep of unsent attachments failed', { error });
  }
}
