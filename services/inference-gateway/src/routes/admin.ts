import { modelPullRequest, ollamaModelName } from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import express, { type Express } from 'express';
import { z } from 'zod';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import { deleteEverywhere, removalStatus } from '../domain/model-delete.js';
import { pullEverywhere } from '../domain/model-pull.js';

function describeBackend(gw: GatewayContext, backend: Backend, now: number) {
  return {
    id: backend.id,
    url: backend.url,
    state: backend.state,
    version: backend.version ?? null,
    models: [...backend.models.keys()].sort(),
    inFlight: backend.inFlight,
    loaded: [...backend.loaded]
      .filter(([, expiresAt]) => expiresAt > now)
      .map(([model]) => model)
      .sort(),
    loading: [...backend.loading.keys()].sort(),
    slotsInUse: Object.fromEntries(backend.modelInFlight),
    maxParallel: gw.config.BACKEND_MAX_PARALLEL,
    promptBacklog: { prompts: backend.prefill.size, tokens: Math.ceil(backend.prefill.tokens) },
    queued: gw.router.queuedFor(backend),
    busy: backend.busyUntil > now,
    tokensPerSecond: Math.round(backend.tokenRate.perSecond() * 100) / 100,
    errors: backend.errors,
    consecutiveFailures: backend.consecutiveFailures,
    lastError: backend.lastError ?? null,
    ejections: backend.ejections,
    ejectedUntil: backend.state === 'ejected' ? new Date(backend.ejectedUntil).toISOString() : null,
  };
}

/**
 * Operators' view of the pool. The gateway is not exposed by the Ingress; these routes also need
 * the service token or an admin access token (src/auth.ts).
 */
export function mountAdminRoutes(app: Express, gw: GatewayContext): void {
  app.get('/admin/backends', (_req, res) => {
    const now = Date.now();
    res.json({
      strategy: gw.config.ROUTING_STRATEGY,
      affinity: {
        hits: gw.router.stats.affinityHits,
        misses: gw.router.stats.affinityMisses,
        hitRate: gw.router.affinityHitRate,
      },
      coldLoads: gw.router.stats.coldLoads,
      queue: { depth: gw.router.queueDepth, max: gw.config.QUEUE_MAX, timeoutMs: gw.config.QUEUE_TIMEOUT_MS },
      backends: gw.pool.list().map((backend) => describeBackend(gw, backend, now)),
    });
  });

  app.post('/admin/backends/:id/drain', (req, res) => {
    const backend = gw.pool.drain(req.params.id);
    if (!backend) throw new AppError('not_found', `no backend ${req.params.id}`);
    res.status(202).json(describeBackend(gw, backend, Date.now()));
  });

  // Progress of every backend's pull as NDJSON lines tagged with `backend`, then one summary line.
  app.post('/admin/models/pull', express.json({ limit: '16kb' }), async (req, res) => {
    const { model, insecure } = parseInput(modelPullRequest, req.body ?? {});
    const backends = gw.pool.list();
    const targets = backends.filter((backend) => backend.routable);
    if (targets.length === 0) {
      throw new AppError('service_unavailable', 'no healthy backend to pull onto', {
        headers: { 'Retry-After': String(gw.router.retryAfterSeconds) },
      });
    }
    const controller = new AbortController();
    // The operator gave up: the backends stop downloading (Ollama keeps what it has for a resume).
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const send = (line: Record<string, unknown>) => {
      if (!res.destroyed) res.write(`${JSON.stringify(line)}\n`);
    };
    const results = await pullEverywhere(targets, gw.upstream, {
      model,
      ...(insecure === undefined ? {} : { insecure }),
      signal: controller.signal,
      onProgress: send,
      onPulled: (backend) => gw.inventory.refresh(backend),
    });
    const pulled = results.filter((result) => result.status === 'success').length;
    gw.logger.info('model pull finished', { model, pulled, backends: results.length });
    send({
      status: pulled === results.length ? 'success' : pulled === 0 ? 'failed' : 'partial',
      model,
      backends: results,
      skipped: backends.filter((backend) => !backend.routable).map((backend) => backend.id),
      done: true,
    });
    res.end();
  });

  // Ollama's DELETE /api/delete on every healthy backend; the others are listed as skipped.
  app.delete('/admin/models', express.json({ limit: '16kb' }), async (req, res) => {
    const { model } = parseInput(z.object({ model: ollamaModelName }), req.body ?? {});
    const backends = gw.pool.list();
    const targets = backends.filter((backend) => backend.routable);
    if (targets.length === 0) {
      throw new AppError('service_unavailable', 'no healthy backend to delete from', {
        headers: { 'Retry-After': String(gw.router.retryAfterSeconds) },
      });
    }
    const results = await deleteEverywhere(targets, gw.upstream, model);
    await Promise.all(targets.map((backend) => gw.inventory.refresh(backend).catch(() => undefined)));
    const skipped = backends.filter((backend) => !backend.routable).map((backend) => backend.id);
    const status = removalStatus(results, skipped.length);
    gw.logger.info('model delete finished', { model, status, backends: results.length });
    res.json({ model, status, backends: results, skipped });
  });
}
