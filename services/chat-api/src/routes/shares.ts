import { requireScope } from '@corral/auth-client';
import { shareBody } from '@corral/contracts';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { findOwnConversation } from '../data/conversations.js';
import {
  countShares,
  createShare,
  deleteShare,
  findShareByToken,
  listShares,
  toSharedConversation,
  toShareView,
} from '../data/shares.js';
import { assertRoom } from '../domain/library-limits.js';
import { principal } from './principal.js';

/**
 * Shared conversations (`/api/shares`): an owner snapshots a conversation under a link, lists and
 * revokes their links; any signed-in user of this Corral opens one by its token. All of it is
 * account business: a session, or an API key with the `account` scope — never an inference key.
 */
export function shareRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.use(requireScope('account'));

  router.get('/', async (req, res) => {
    const shares = await listShares(ctx.db, principal(req).userId);
    res.json({ items: shares.map(toShareView) });
  });

  router.post('/', async (req, res) => {
    const caller = principal(req);
    const body = parseInput(shareBody, req.body ?? {});
    const conversation = await findOwnConversation(ctx.db, caller.userId, body.conversationId);
    const count = await countShares(ctx.db, caller.userId);
    assertRoom('shared links', count, 1, ctx.config.MAX_SHARES_PER_USER, 'MAX_SHARES_PER_USER');
    const share = await createShare(ctx.db, conversation);
    res.status(201).json({ share: toShareView(share) });
  });

  router.delete('/:id', async (req, res) => {
    await deleteShare(ctx.db, principal(req).userId, req.params.id);
    res.status(204).end();
  });

  router.get('/view/:token', async (req, res) => {
    const share = await findShareByToken(ctx.db, req.params.token);
    res.set('Cache-Control', 'no-store').json({ share: toSharedConversation(share, principal(req).userId) });
  });

  return router;
}
