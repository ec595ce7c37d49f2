import { once } from 'node:events';
import {
  backendPool,
  modelAvailabilityPatch,
  modelPullRequest,
  modelRemoval,
  normalizeModelName,
  ollamaModelName,
  type PoolModelView,
} from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import { type Request, Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { principal } from './principal.js';

const modelParams = z.object({ name: ollamaModelName });
/** The model named in the path (percent-encoded: a name may hold `/`), tagged. */
const nameParam = (req: Request) => normalizeModelName(parseInput(modelParams, req.params, 'params').name);

/** Who did it, from where: the fields every audit entry of the pool carries. */
const actor = (req: Request) => ({ actorId: principal(req).userId, ...(req.ip ? { ip: req.ip } : {}) });

/** Every model some backend holds, with the backends holding it. */
async function poolModels(ctx: ChatContext): Promise<Map<string, string[]>> {
  const pool = backendPool.parse(await ctx.gateway.admin('GET', '/admin/backends'));
  const models = new Map<string, string[]>();
  for (const backend of pool.backends) {
    for (const model of backend.models) {
      const name = normalizeModelName(model);
      models.set(name, [...(models.get(name) ?? []), backend.id]);
    }
  }
  return models;
}

/**
 * Admin-only (mounted behind requireRole('admin')): the gateway's model pool, for the web app's
 * admin page. The Ingress does not expose the gateway, so chat-api relays these with its service token.
 */
export function poolRoutes(ctx: ChatContext): Router {
  const router = Router();

  router.get('/backends', async (_req, res) => {
    res.json(await ctx.gateway.admin('GET', '/admin/backends'));
  });

  // The pool's models with their "available to users" switch (no row: available, see ModelAvailability).
  router.get('/models', async (_req, res) => {
    const [models, decided] = await Promise.all([poolModels(ctx), ctx.availability.decided()]);
    const byName = new Map(decided.map((row) => [row.model, row.availableToUsers]));
    const items: PoolModelView[] = [...models]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, backends]) => ({
        name,
        availableToUsers: !ctx.availability.isHidden(name),
        decided: byName.has(name),
        backends,
      }));
    res.json({ items });
  });

  router.put('/models/:name/availability', async (req, res) => {
    const name = nameParam(req);
    const { availableToUsers } = parseInput(modelAvailabilityPatch, req.body ?? {});
    const models = await poolModels(ctx);
    if (!models.has(name)) throw new AppError('not_found', `No backend holds the model '${name}'.`);
    await ctx.availability.set(name, availableToUsers, principal(req).userId);
    await ctx.audit.record({
      action: 'model.availability_changed',
      targetType: 'model',
      targetId: name,
      details: { availableToUsers },
      ...actor(req),
    });
    res.json({ name, availableToUsers, decided: true, backends: models.get(name) ?? [] });
  });

  // Ollama's DELETE /api/delete on every backend (through the gateway), then the switch is forgotten.
  router.delete('/models/:name', async (req, res) => {
    const name = nameParam(req);
    const removal = modelRemoval.parse(await ctx.gateway.admin('DELETE', '/admin/models', { model: name }));
    const outcome = removal.status === 'removed' || removal.status === 'partial' ? 'success' : 'failure';
    await ctx.audit.record({
      action: 'model.removed',
      outcome,
      targetType: 'model',
      targetId: name,
      details: { status: removal.status, backends: removal.backends, skipped: removal.skipped },
      ...actor(req),
    });
    if (removal.status === 'not_found')
      throw new AppError('not_found', `No backend holds the model '${name}'.`);
    if (removal.status === 'failed') {
      const why = removal.backends.map((b) => `${b.backend}: ${b.error ?? b.status}`).join('; ');
      throw new AppError('bad_gateway', `No backend removed the model '${name}' (${why || 'none healthy'}).`);
    }
    if (removal.status === 'removed') await ctx.availability.forget(name);
    res.json(removal);
  });

  // The gateway's NDJSON progress, relayed chunk by chunk as it arrives.
  router.post('/models/pull', async (req, res) => {
    const pull = parseInput(modelPullRequest, req.body ?? {});
    // A model new to the pool stays hidden from users until an admin switches it on.
    if (!(await poolModels(ctx)).has(normalizeModelName(pull.model))) {
      await ctx.availability.hideNew(pull.model, principal(req).userId);
    }
    await ctx.audit.record({
      action: 'model.pulled',
      targetType: 'model',
      targetId: pull.model,
      ...actor(req),
    });
    const controller = new AbortController();
    // The admin gave up: closing the gateway request stops the pulls there.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const progress = await ctx.gateway.pullModel(pull, controller.signal);
    res.status(200).set({
      'Content-Type': 'application/x-ndjson',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    try {
      for await (const chunk of progress) {
        if (!res.write(chunk)) await once(res, 'drain', { signal: controller.signal });
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      ctx.logger.warn('gateway dropped a model pull stream', { model: pull.model, error });
      // As the gateway ends a broken stream: one last line, so the page can say what happened.
      res.write(`${JSON.stringify({ error: 'the inference gateway dropped the pull', done: true })}\n`);
    }
    res.end();
  });

  return router;
}
