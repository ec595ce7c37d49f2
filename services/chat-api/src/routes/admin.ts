import { adminUsageQuery, apiKeyLimitsPatch, userLimitsPatch } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { adminUsage, usageToday } from '../data/usage.js';
import { principal } from './principal.js';

/** auth's user and API key ids; chat-api never reads auth's tables, so any well-formed id is accepted. */
const idParam = z.string().trim().min(1).max(200);

/** Admin-only (mounted behind requireRole('admin')): per-user and per-key limits, everyone's usage. */
export function adminRoutes(ctx: ChatContext): Router {
  const router = Router();
  const defaults = {
    requestsPerMinute: ctx.config.RATE_LIMIT_PER_MINUTE,
    dailyTokenBudget: ctx.config.DAILY_TOKEN_BUDGET,
    maxConcurrentStreams: ctx.config.MAX_CONCURRENT_STREAMS,
    allowedModels: ctx.config.ALLOWED_MODELS.length > 0 ? ctx.config.ALLOWED_MODELS : null,
  };

  router.get('/users/:userId/limits', async (req, res) => {
    const userId = parseInput(idParam, req.params.userId, 'params');
    const [stored, effective] = await Promise.all([ctx.limits.stored(userId), ctx.limits.effective(userId)]);
    res.json({ ...stored, defaults, effective });
  });

  router.put('/users/:userId/limits', async (req, res) => {
    const userId = parseInput(idParam, req.params.userId, 'params');
    const patch = parseInput(userLimitsPatch, req.body ?? {});
    const stored = await ctx.limits.setUserLimits(userId, patch, principal(req).userId);
    ctx.logger.info('user limits changed', { targetUserId: userId, fields: Object.keys(patch) });
    res.json({ ...stored, defaults, effective: await ctx.limits.effective(userId) });
  });

  router.get('/api-keys/:keyId/limits', async (req, res) => {
    const apiKeyId = parseInput(idParam, req.params.keyId, 'params');
    res.json({
      apiKeyId,
      dailyTokenBudget: await ctx.limits.apiKeyBudget(apiKeyId),
      defaults: { dailyTokenBudget: ctx.config.DAILY_TOKEN_BUDGET_PER_KEY },
    });
  });

  router.put('/api-keys/:keyId/limits', async (req, res) => {
    const apiKeyId = parseInput(idParam, req.params.keyId, 'params');
    const patch = parseInput(apiKeyLimitsPatch, req.body ?? {});
    const saved = await ctx.limits.setApiKeyLimits(apiKeyId, patch, principal(req).userId);
    ctx.logger.info('API key limits changed', { apiKeyId, dailyTokenBudget: patch.dailyTokenBudget });
    res.json({ ...saved, defaults: { dailyTokenBudget: ctx.config.DAILY_TOKEN_BUDGET_PER_KEY } });
  });

  router.get('/usage', async (req, res) => {
    const query = parseInput(adminUsageQuery, req.query, 'query');
    await ctx.usage.flush();
    res.json(await adminUsage(ctx.db, query));
  });

  return router;
}

/** `GET /api/metrics/chat`: a JSON summary for admins (today's usage; this replica's live streams). */
export function chatSummaryRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.get('/chat', async (_req, res) => {
    await ctx.usage.flush();
    const today = await usageToday(ctx.db);
    res.json({
      day: new Date().toISOString().slice(0, 10),
      activeUsers: today.users,
      byModel: today.byModel,
      totals: today.byModel.reduce(
        (sum, row) => ({
          requests: sum.requests + row.requests,
          promptTokens: sum.promptTokens + row.promptTokens,
          completionTokens: sum.completionTokens + row.completionTokens,
        }),
        { requests: 0, promptTokens: 0, completionTokens: 0 },
      ),
      replica: { activeGenerations: ctx.generations.size },
    });
  });
  return router;
}
