import { requireScope } from '@corral/auth-client';
import { usageQuery } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { isEmbeddingModel, modelCapabilities, visibleModels } from '../domain/models.js';
import { storageUsed } from '../data/attachments.js';
import { usageByDay } from '../data/usage.js';
import { quotaBytesOf } from '../domain/attachments.js';
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
    const capabilities = await Promise.all(models.map((model) => modelCapabilities(ctx, model.name)));
    const limits = await Promise.all(
      models.map(async (model) =>
        isEmbeddingModel(model)
          ? ctx.config.MAX_MESSAGE_CHARS
          : (await ctx.messageLimits.forModel(model.name)).maxChars,
      ),
    );
    res.json({
      defaultModel: ctx.config.DEFAULT_MODEL,
      items: models.map((model, i) => ({
        name: model.name,
        kind: isEmbeddingModel(model) ? 'embedding' : 'chat',
        size: model.size ?? null,
        modifiedAt: model.modified_at ?? null,
        details: model.details ?? {},
        capabilities: capabilities[i] ?? [],
        maxMessageChars: limits[i] ?? ctx.config.MAX_MESSAGE_CHARS,
      })),
    });
  });

  router.get('/usage', async (req, res) => {
    const { days } = parseInput(usageQuery, req.query, 'query');
    const caller = principal(req);
    // The usage this replica has not written yet is in the answer too.
    await ctx.usage.flush();
    const [items, usedToday, usedBytes] = await Promise.all([
      usageByDay(ctx.db, caller.userId, days),
      ctx.usage.tokensUsedToday(caller.userId),
      storageUsed(ctx.db, caller.userId),
    ]);
    const budget = caller.limits.dailyTokenBudget;
    res.json({
      items,
      dailyTokenBudget: budget > 0 ? budget : null,
      tokensUsedToday: usedToday,
      storage: { usedBytes, quotaBytes: quotaBytesOf(caller) },
    });
  });

  return router;
}
