import { requireScope } from '@corral/auth-client';
import { promptBody, promptPatch } from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import {
  countPrompts,
  createPrompt,
  deletePrompt,
  findVisiblePrompt,
  listPrompts,
  toPromptView,
  updatePrompt,
} from '../data/prompts.js';
import type { Caller } from '../domain/admission.js';
import { assertLength, assertRoom } from '../domain/library-limits.js';
import { principal } from './principal.js';

/** A personal prompt is its owner's to change; a shared one any admin's (a session or an admin-scoped key). */
function mayEdit(prompt: { shared: boolean; userId: string }, caller: Caller): boolean {
  if (!prompt.shared) return prompt.userId === caller.userId;
  return caller.role === 'admin' && (caller.kind !== 'api_key' || caller.scopes.includes('admin'));
}

/**
 * The prompt library (`/api/prompts`): the caller's own prompts and the shared ones; an admin saves
 * shared ones. Part of the owner's account: a session, or a key with the `account` scope.
 */
export function promptRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.use(requireScope('account'));
  const { MAX_PROMPT_CHARS, MAX_PROMPTS_PER_USER } = ctx.config;

  router.get('/', async (req, res) => {
    const caller = principal(req);
    const prompts = await listPrompts(ctx.db, caller.userId);
    res.json({ items: prompts.map((p) => toPromptView(p, mayEdit(p, caller))) });
  });

  router.post('/', async (req, res) => {
    const caller = principal(req);
    const body = parseInput(promptBody, req.body ?? {});
    if (body.shared && !mayEdit({ shared: true, userId: '' }, caller)) {
      throw new AppError('forbidden', 'Only an admin saves prompts shared with everyone.');
    }
    assertLength('body.text', body.text.length, MAX_PROMPT_CHARS, 'MAX_PROMPT_CHARS');
    const count = await countPrompts(ctx.db, caller.userId, body.shared);
    assertRoom(
      body.shared ? 'shared prompts' : 'prompts',
      count,
      1,
      MAX_PROMPTS_PER_USER,
      'MAX_PROMPTS_PER_USER',
    );
    const prompt = await createPrompt(ctx.db, { userId: caller.userId, ...body });
    res
      .status(201)
      .location(`/api/prompts/${prompt.id}`)
      .json({ prompt: toPromptView(prompt, true) });
  });

  router.patch('/:id', async (req, res) => {
    const caller = principal(req);
    const prompt = await findVisiblePrompt(ctx.db, caller.userId, req.params.id);
    if (!mayEdit(prompt, caller)) throw new AppError('forbidden', 'Only an admin changes a shared prompt.');
    const body = parseInput(promptPatch, req.body ?? {});
    if (body.text !== undefined)
      assertLength('body.text', body.text.length, MAX_PROMPT_CHARS, 'MAX_PROMPT_CHARS');
    const updated = await updatePrompt(ctx.db, prompt.id, body);
    res.json({ prompt: toPromptView(updated, true) });
  });

  router.delete('/:id', async (req, res) => {
    const caller = principal(req);
    const prompt = await findVisiblePrompt(ctx.db, caller.userId, req.params.id);
    if (!mayEdit(prompt, caller)) throw new AppError('forbidden', 'Only an admin deletes a shared prompt.');
    await deletePrompt(ctx.db, prompt.id);
    res.status(204).end();
  });

  return router;
}
