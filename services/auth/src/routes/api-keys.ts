import { AppError, parseInput } from '@corral/service-kit';
import { Router } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import { findOwnApiKey, listApiKeysOf } from '../data/api-keys.js';
import { createApiKey, introspectApiKey, revokeApiKey, toApiKeyView } from '../domain/api-keys.js';
import { safeEqual } from '../domain/crypto.js';
import { bearerToken, clientIp, principal, requireUser } from './authenticate.js';

export const newApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  models: z.array(z.string().min(1).max(200)).max(100).nullable().optional(),
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value))
    .nullable()
    .optional(),
});

const idParams = z.object({ id: z.uuid() });

/** A user's own API keys: create (shown once), list, revoke. */
export function apiKeyRoutes(ctx: AuthContext): Router {
  const router = Router();
  router.use(requireUser(ctx));

  router.post('/', async (req, res) => {
    const body = parseInput(newApiKeyBody, req.body);
    const { user } = principal(res);
    const created = await createApiKey(ctx, user.id, body, { id: user.id, ip: clientIp(req) });
    res.status(201).set('Cache-Control', 'no-store').json(created);
  });

  router.get('/', async (_req, res) => {
    const keys = await listApiKeysOf(ctx.db, principal(res).user.id);
    res.json({ items: keys.map(toApiKeyView) });
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { user } = principal(res);
    // Someone else's key is "not found", not "forbidden": ids of other people's keys are not confirmed.
    const key = await findOwnApiKey(ctx.db, user.id, id);
    if (!key) throw new AppError('not_found', 'No such API key.');
    await revokeApiKey(ctx, key, { id: user.id, ip: clientIp(req) });
    res.status(204).end();
  });

  return router;
}

const introspectBody = z.object({ token: z.string().min(1).max(512) });

/** POST /api/auth/introspect: other services ask whether an API key is valid and whose it is. */
export function introspectionRoutes(ctx: AuthContext): Router {
  const router = Router();
  router.post('/introspect', async (req, res) => {
    const presented = bearerToken(req);
    if (!presented || !safeEqual(presented, ctx.config.INTERNAL_SERVICE_TOKEN)) {
      throw new AppError('unauthorized', 'Introspection needs the internal service token.');
    }
    const { token } = parseInput(introspectBody, req.body);
    res.set('Cache-Control', 'no-store').json(await introspectApiKey(ctx, token));
  });
  return router;
}
