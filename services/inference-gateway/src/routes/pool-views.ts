import { normalizeModelName } from '@corral/contracts';
import { AppError } from '@corral/service-kit';
import type { Express, Response } from 'express';
import type { GatewayContext } from '../context.js';
import type { Backend } from '../domain/backend.js';
import { type WireFamily, sendWireError } from './wire-errors.js';

function healthyBackends(gw: GatewayContext): Backend[] {
  return gw.pool.list().filter((backend) => backend.routable);
}

function noBackend(res: Response, family: WireFamily, gw: GatewayContext): void {
  const retryAfter = gw.router.retryAfterSeconds;
  sendWireError(
    res,
    family,
    new AppError('service_unavailable', 'no healthy Ollama backend', {
      headers: { 'Retry-After': String(retryAfter) },
      extensions: { retryAfter },
    }),
  );
}

/** Orders versions like "0.12.0" numerically; the pool answers with its oldest, the safe one to assume. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  const pb = b.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (Number.isNaN(pa[i]) ? 0 : (pa[i] ?? 0)) - (Number.isNaN(pb[i]) ? 0 : (pb[i] ?? 0));
    if (diff !== 0) return diff;
  }
  return 0;
}

function modelsOf(gw: GatewayContext) {
  return [...gw.pool.modelUnion().values()].sort((a, b) => a.entry.name.localeCompare(b.entry.name));
}

/** Answers that describe the whole pool rather than one backend: model lists, loaded models, version. */
export function mountPoolViews(app: Express, gw: GatewayContext): void {
  app.get('/', (_req, res) => void res.type('text/plain').send('Ollama is running'));
  app.head('/', (_req, res) => void res.type('text/plain').end());

  app.get('/api/tags', (_req, res) => {
    res.json({ models: modelsOf(gw).map(({ entry }) => entry) });
  });

  app.get('/api/version', (_req, res) => {
    const versions = healthyBackends(gw)
      .map((backend) => backend.version)
      .filter((version): version is string => version !== undefined)
      .sort(compareVersions);
    if (versions.length === 0) return noBackend(res, 'ollama', gw);
    res.json({ version: versions[0] });
  });

  app.get('/api/ps', async (_req, res) => {
    const backends = healthyBackends(gw);
    if (backends.length === 0) return noBackend(res, 'ollama', gw);
    const answers = await Promise.allSettled(
      backends.map((backend) => gw.upstream.getJson(`${backend.url}/api/ps`, gw.config.HEALTH_TIMEOUT_MS)),
    );
    const loaded = new Map<string, unknown>();
    for (const answer of answers) {
      if (answer.status !== 'fulfilled') continue;
      const models = (answer.value as { models?: unknown } | null)?.models;
      if (!Array.isArray(models)) continue;
      for (const model of models as Array<{ name?: unknown }>) {
        if (typeof model?.name === 'string' && !loaded.has(model.name)) loaded.set(model.name, model);
      }
    }
    res.json({ models: [...loaded.values()] });
  });

  const openAIModel = (entry: { name: string; modified_at?: string }) => ({
    id: entry.name,
    object: 'model',
    created: Math.floor((Date.parse(entry.modified_at ?? '') || 0) / 1000),
    owned_by: 'library',
  });

  app.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: modelsOf(gw).map(({ entry }) => openAIModel(entry)) });
  });

  app.get('/v1/models/{*name}', (req, res) => {
    const raw = (req.params as { name?: string[] | string }).name;
    const name = Array.isArray(raw) ? raw.join('/') : (raw ?? '');
    const known = gw.pool.modelUnion().get(normalizeModelName(name));
    if (!known) {
      return sendWireError(res, 'openai', new AppError('model_not_found', `model "${name}" not found`));
    }
    res.json(openAIModel(known.entry));
  });
}
