import { once } from 'node:events';
import { modelPullRequest } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';

/**
 * Admin-only (mounted behind requireRole('admin')): the gateway's model pool, for the web app's
 * admin page. The Ingress does not expose the gateway, so chat-api relays these with its service token.
 */
export function poolRoutes(ctx: ChatContext): Router {
  const router = Router();

  router.get('/backends', async (_req, res) => {
    res.json(await ctx.gateway.adminBackends());
  });

  // The gateway's NDJSON progress, relayed chunk by chunk as it arrives.
  router.post('/models/pull', async (req, res) => {
    const pull = parseInput(modelPullRequest, req.body ?? {});
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
