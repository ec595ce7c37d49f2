import { serviceAuditEntry } from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import type { AuditEntry } from '../domain/audit.js';
import { findOwnApiKey, listApiKeysOf } from '../data/api-keys.js';
import { keyWithDescendants } from '../data/key-tree.js';
import { createApiKey, introspectApiKey, revokeApiKey, toApiKeyView } from '../domain/api-keys.js';
import { safeEqual } from '../domain/crypto.js';
import { API_KEY_SCOPES, narrowGrant, sessionGrant } from '../domain/key-scopes.js';
import { revocationFeed } from '../domain/revocation.js';
import { allMemberships } from '../data/groups.js';
import { userGrants } from '../domain/groups.js';
import {
  bearerToken,
  clientIp,
  principal,
  requireScope,
  requireUser,
  type Principal,
} from './authenticate.js';

export const newApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  models: z.array(z.string().min(1).max(200)).max(100).nullable().optional(),
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(value))
    .nullable()
    .optional(),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length).optional(),
});
export type NewApiKeyBody = z.infer<typeof newApiKeyBody>;

const idParams = z.object({ id: z.uuid() });

/**
 * The grant of a key `caller` creates for `ownerIsAdmin`'s account: from a key, never wider than
 * that key (and remembered as its child); from a session, by the rules of key-scopes.
 */
export function grantFor(
  caller: Principal,
  body: NewApiKeyBody,
  options: { byAdmin: boolean; ownerIsAdmin: boolean },
) {
  if (caller.via === 'api_key' && caller.key) {
    const parent = caller.key;
    const grant = narrowGrant(
      {
        scopes: parent.scopes,
        models: (parent.models as string[] | null) ?? null,
        expiresAt: parent.expiresAt,
      },
      body,
    );
    if (grant.scopes.includes('admin') && !options.ownerIsAdmin) {
      throw new AppError('validation_failed', 'body.scopes: "admin" is only for an administrator\'s key');
    }
    return { name: body.name, ...grant, parentKeyId: parent.id };
  }
  return { name: body.name, ...sessionGrant(body, options), parentKeyId: null };
}

/**
 * A user's own API keys: create (shown once), list, revoke. In a session: all of the user's keys.
 * With a key holding the `keys` scope: only the keys created from it, never wider than it.
 */
export function apiKeyRoutes(ctx: AuthContext): Router {
  const router = Router();
  router.use(requireUser(ctx), requireScope('keys'));

  /** The keys the caller may see and revoke among its user's: all of them with a session, else those made from the key. */
  const visibleKeyIds = async (caller: Principal): Promise<string[] | undefined> => {
    if (caller.via !== 'api_key' || !caller.key) return undefined;
    const ids = await keyWithDescendants(ctx.db, caller.key.id);
    return ids.filter((id) => id !== caller.key?.id);
  };

  router.post('/', async (req, res) => {
    const body = parseInput(newApiKeyBody, req.body);
    const caller = principal(res);
    const grant = grantFor(caller, body, { byAdmin: false, ownerIsAdmin: caller.user.role === 'admin' });
    const created = await createApiKey(ctx, caller.user.id, grant, { id: caller.user.id, ip: clientIp(req) });
    res.status(201).set('Cache-Control', 'no-store').json(created);
  });

  router.get('/', async (_req, res) => {
    const caller = principal(res);
    const keys = await listApiKeysOf(ctx.db, caller.user.id, await visibleKeyIds(caller));
    res.json({ items: keys.map(toApiKeyView) });
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const caller = principal(res);
    // Someone else's key is "not found", not "forbidden": ids of other people's keys are not confirmed.
    const key = await findOwnApiKey(ctx.db, caller.user.id, id, await visibleKeyIds(caller));
    if (!key) throw new AppError('not_found', 'No such API key.');
    await revokeApiKey(ctx, key, { id: caller.user.id, ip: clientIp(req) });
    res.status(204).end();
  });

  return router;
}

type AuditDetails = NonNullable<AuditEntry['details']>;
const userIdParams = z.object({ id: z.uuid() });
const introspectBody = z.object({ token: z.string().min(1).max(512) });
const feedQuery = z.object({
  after: z
    .string()
    .regex(/^\d{1,19}$/, 'expected an event id')
    .transform(BigInt)
    .optional(),
});

function requireServiceToken(ctx: AuthContext, req: Request, what: string): void {
  const presented = bearerToken(req);
  if (!presented || !safeEqual(presented, ctx.config.INTERNAL_SERVICE_TOKEN)) {
    throw new AppError('unauthorized', `${what} needs the internal service token.`);
  }
}

/**
 * For other services, with the internal service token: POST /api/auth/introspect (is this API key
 * valid, whose is it, what may it do), GET /api/auth/revocations (the stamps feed they poll) and
 * GET /api/auth/users/:id/grants (the user's groups with their models and limits, for chat-api)
 * and GET /api/auth/groups/members (every group's member ids, for usage by group), and
 * POST /api/auth/audit-events (an admin action another service carried out, into the audit log).
 */
export function introspectionRoutes(ctx: AuthContext): Router {
  const router = Router();
  router.post('/introspect', async (req, res) => {
    requireServiceToken(ctx, req, 'Introspection');
    const { token } = parseInput(introspectBody, req.body);
    res.set('Cache-Control', 'no-store').json(await introspectApiKey(ctx, token));
  });
  router.get('/groups/members', async (req, res) => {
    requireServiceToken(ctx, req, 'Group memberships');
    res.set('Cache-Control', 'no-store').json({ items: await allMemberships(ctx.db) });
  });
  router.get('/users/:id/grants', async (req, res) => {
    requireServiceToken(ctx, req, 'Group grants');
    const { id } = parseInput(userIdParams, req.params, 'params');
    res.set('Cache-Control', 'no-store').json(await userGrants(ctx, id));
  });
  // Admin actions another service carried out (chat-api's pool changes), in the one audit log.
  router.post('/audit-events', async (req, res) => {
    requireServiceToken(ctx, req, 'Recording an audit event');
    const { details, ...entry } = parseInput(serviceAuditEntry, req.body);
    // Parsed from JSON, so JSON again.
    await ctx.audit.record({ ...entry, ...(details ? { details: details as AuditDetails } : {}) });
    res.status(204).end();
  });
  router.get('/revocations', async (req, res) => {
    requireServiceToken(ctx, req, 'The revocation feed');
    const { after } = parseInput(feedQuery, req.query, 'query');
    res.set('Cache-Control', 'no-store').json(await revocationFeed(ctx, after));
  });
  return router;
}
