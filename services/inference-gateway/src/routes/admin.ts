import { AppError } from '@corral/service-kit';
import type { Express } from 'express';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';

function describeBackend(gw: GatewayContext, backend: Backend, now: number) {
  return {
    id: backend.id,
    url: backend.url,
    state: backend.state,
    version: backend.version ?? null,
    models: [...backend.models.keys()].sort(),
    inFlight: backend.inFlight,
    maxParallel: gw.config.BACKEND_MAX_PARALLEL,
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

/** Operators' view of the pool. The gateway is not exposed by the Ingress; see README on access. */
export function mountAdminRoutes(app: Express, gw: GatewayContext): void {
  app.get('/admin/backends', (_req, res) => {
    const now = Date.now();
    res.json({
      strategy: gw.config.ROUTING_STRATEGY,
      queue: { depth: gw.router.queueDepth, max: gw.config.QUEUE_MAX, timeoutMs: gw.config.QUEUE_TIMEOUT_MS },
      backends: gw.pool.list().map((backend) => describeBackend(gw, backend, now)),
    });
  });

  app.post('/admin/backends/:id/drain', (req, res) => {
    const backend = gw.pool.drain(req.params.id);
    if (!backend) throw new AppError('not_found', `no backend ${req.params.id}`);
    res.status(202).json(describeBackend(gw, backend, Date.now()));
  });
}
