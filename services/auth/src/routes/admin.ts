import { parseInput } from '@corral/service-kit';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import { listApiKeysOf } from '../data/api-keys.js';
import { groupsOf } from '../data/groups.js';
import { listUsers } from '../data/users.js';
import { findUserOr404, resetPassword, setUserRole, setUserStatus, type Actor } from '../domain/admin.js';
import { createApiKey, toApiKeyView } from '../domain/api-keys.js';
import { toGroupView } from '../domain/groups.js';
import { toPublicUser } from '../domain/users.js';
import { grantFor, newApiKeyBody } from './api-keys.js';
import { clientIp, principal, requireAdmin, requireScope, requireUser } from './authenticate.js';
import { groupRoutes } from './groups.js';
import { passwordSchema } from './sessions.js';

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

const userQuery = z.object({
  q: z.string().trim().min(1).max(200).optional(),
  status: z.enum(['active', 'pending', 'disabled']).optional(),
  role: z.enum(['admin', 'user']).optional(),
  limit: limit(200, 50),
  cursor: z.uuid().optional(),
});
const idParams = z.object({ id: z.uuid() });
const roleBody = z.object({ role: z.enum(['admin', 'user']) });
const passwordBody = z.object({ password: passwordSchema });
const auditFilter = z.object({
  action: z.string().max(100).optional(),
  actorId: z.uuid().optional(),
});
const eventId = z
  .string()
  .regex(/^\d{1,19}$/, 'expected an event id')
  .transform(BigInt);
/** `cursor` pages as on every list; `before`, its old name, is still accepted. */
const auditQuery = auditFilter
  .extend({ limit: limit(500, 100), cursor: eventId.optional(), before: eventId.optional() })
  .transform(({ cursor, before, ...rest }) => {
    const after = cursor ?? before;
    return after === undefined ? rest : { ...rest, before: after };
  });

/** /api/auth/admin: users, signing-key rotation and the audit log. Admins only, in a session or with an `admin`-scoped key. */
export function adminRoutes(ctx: AuthContext): Router {
  const router = Router();
  router.use(requireUser(ctx), requireScope('admin'), requireAdmin);
  const actor = (req: { ip?: string | undefined }, res: Response): Actor => ({
    id: principal(res).user.id,
    ip: req.ip,
  });

  router.get('/users', async (req, res) => {
    const query = parseInput(userQuery, req.query, 'query');
    const page = await listUsers(ctx.db, query);
    res.json({ items: page.items.map(toPublicUser), nextCursor: page.nextCursor });
  });

  router.use('/groups', groupRoutes(ctx));

  router.get('/users/:id/groups', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    await findUserOr404(ctx, id);
    res.json({ items: (await groupsOf(ctx.db, id)).map(toGroupView) });
  });

  router.get('/users/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.json({ user: toPublicUser(await findUserOr404(ctx, id)) });
  });

  router.post('/users/:id/activate', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.json({ user: toPublicUser(await setUserStatus(ctx, actor(req, res), id, 'active')) });
  });

  router.post('/users/:id/disable', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.json({ user: toPublicUser(await setUserStatus(ctx, actor(req, res), id, 'disabled')) });
  });

  router.put('/users/:id/role', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { role } = parseInput(roleBody, req.body);
    res.json({ user: toPublicUser(await setUserRole(ctx, actor(req, res), id, role)) });
  });

  router.post('/users/:id/password', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { password } = parseInput(passwordBody, req.body);
    await resetPassword(ctx, actor(req, res), id, password);
    res.status(204).end();
  });

  router.get('/users/:id/api-keys', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    await findUserOr404(ctx, id);
    const keys = await listApiKeysOf(ctx.db, id);
    res.json({ items: keys.map(toApiKeyView) });
  });

  // Keys for a service or team account: issued by an admin, owned by that account.
  router.post('/users/:id/api-keys', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const body = parseInput(newApiKeyBody, req.body);
    const owner = await findUserOr404(ctx, id);
    const caller = principal(res);
    const grant = grantFor(caller, body, { byAdmin: true, ownerIsAdmin: owner.role === 'admin' });
    const created = await createApiKey(ctx, id, grant, { id: caller.user.id, ip: clientIp(req) });
    res.status(201).set('Cache-Control', 'no-store').json(created);
  });

  router.post('/keys/rotate', async (req, res) => {
    const result = await ctx.keys.rotate();
    await ctx.audit.record({
      action: 'signing_key.rotated',
      actorId: principal(res).user.id,
      targetType: 'signing_key',
      targetId: result.kid,
      ip: clientIp(req),
      details: { retired: result.retired },
    });
    res.status(201).json(result);
  });

  router.get('/audit', async (req, res) => {
    const query = parseInput(auditQuery, req.query, 'query');
    res.json(await ctx.audit.page(query));
  });

  // The whole log (or a filtered part) as NDJSON, streamed page by page.
  router.get('/audit/export', async (req, res) => {
    const query = parseInput(auditFilter, req.query, 'query');
    res
      .status(200)
      .type('application/x-ndjson')
      .set('Content-Disposition', 'attachment; filename="corral-audit.ndjson"');
    let before: bigint | undefined;
    for (;;) {
      const page = await ctx.audit.page({
        ...query,
        limit: 500,
        ...(before === undefined ? {} : { before }),
      });
      for (const item of page.items) res.write(`${JSON.stringify(item)}\n`);
      if (!page.nextCursor) break;
      before = BigInt(page.nextCursor);
    }
    res.end();
  });

  return router;
}
