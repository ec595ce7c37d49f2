import { groupBody, groupLimitsPatch } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../context.js';
import { listGroups, membersOf } from '../data/groups.js';
import type { Actor } from '../domain/admin.js';
import {
  changeMembership,
  createGroup,
  findGroupOr404,
  removeGroup,
  renameAdminGroup,
  setGroupLimits,
  toGroupView,
} from '../domain/groups.js';
import { toPublicUser } from '../domain/users.js';
import { principal } from './authenticate.js';

const idParams = z.object({ id: z.uuid() });
const memberParams = z.object({ id: z.uuid(), userId: z.uuid() });

/**
 * /api/auth/admin/groups (mounted behind the admin guard): list, create, rename, delete, members.
 * Synced (`oidc`) groups follow the IdP's claim, so their name and members are not edited here.
 */
export function groupRoutes(ctx: AuthContext): Router {
  const router = Router();
  const actor = (req: { ip?: string | undefined }, res: Response): Actor => ({
    id: principal(res).user.id,
    ip: req.ip,
  });

  router.get('/', async (_req, res) => {
    res.json({ items: (await listGroups(ctx.db)).map(toGroupView) });
  });

  router.post('/', async (req, res) => {
    const { name } = parseInput(groupBody, req.body);
    res.status(201).json({ group: toGroupView(await createGroup(ctx, name, actor(req, res))) });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.json({ group: toGroupView(await findGroupOr404(ctx, id)) });
  });

  router.patch('/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const { name } = parseInput(groupBody, req.body);
    res.json({ group: toGroupView(await renameAdminGroup(ctx, id, name, actor(req, res))) });
  });

  router.put('/:id/limits', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const patch = parseInput(groupLimitsPatch, req.body);
    res.json({ group: toGroupView(await setGroupLimits(ctx, id, patch, actor(req, res))) });
  });

  router.delete('/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    await removeGroup(ctx, id, actor(req, res));
    res.status(204).end();
  });

  router.get('/:id/members', async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    await findGroupOr404(ctx, id);
    res.json({ items: (await membersOf(ctx.db, id)).map(toPublicUser) });
  });

  router.put('/:id/members/:userId', async (req, res) => {
    const { id, userId } = parseInput(memberParams, req.params, 'params');
    res.json({ group: toGroupView(await changeMembership(ctx, id, userId, 'add', actor(req, res))) });
  });

  router.delete('/:id/members/:userId', async (req, res) => {
    const { id, userId } = parseInput(memberParams, req.params, 'params');
    await changeMembership(ctx, id, userId, 'remove', actor(req, res));
    res.status(204).end();
  });

  return router;
}
