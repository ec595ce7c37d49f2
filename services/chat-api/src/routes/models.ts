import { requireScope } from '@corral/auth-client';
import { usageQuery } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { isEmbeddingModel, visibleModels } from '../domain/models.js';
import { usageByDay } from '../data/usage.js';
import { principal } from './principal.js';

/**
 * GET /api/models (the gateway's models the caller may use; every key, as `/v1/models`) and
 * GET /api/usage (own, by day and model: the owner's account, so a session or the `account` scope).
 */
export function modelAndUsageRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.get('/models', requireScope('inference'));
  router.get('/usage', requireScope('account'));

  router.get('/models', async (req, res) => {
    const models = await visibleModels(ctx, principal(req));
    res.json({
      defaultModel: ctx.config.DEFAULT_MODEL,
      items: models.map((model) => ({
        name: model.name,
        kind: isEmbeddingModel(model) ? 'embedding' : 'chat',
        size: model.size ?? null,
        modifiedAt: model.modified_at ?? null,
        details: model.details ?? {},
      })),
    });
  });

  router.get('/usage', async (req, res) => {
    const { days } = parseInput(usageQuery, req.query, 'query');
    const caller = principal(req);
    // The usage this replica has not written yet is in the answer too.
    await ctx.usage.flush();
    const [items, usedToday] = await Promise.all([
      usageByDay(ctx.db, caller.userId, days),
      ctx.usage.tokensUsedToday(caller.userId),
    ]);
    const budget = caller.limits.dailyTokenBudget;
    res.json({ items, dailyTokenBudget: budget > 0 ? budget : null, tokensUsedToday: usedToday });
  });

  return router;
}
