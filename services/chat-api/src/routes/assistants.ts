import { requireScope } from '@corral/auth-client';
import { assistantBody, assistantPatch } from '@corral/contracts';
import { AppError, parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import {
  assistantNotFound,
  countAssistants,
  createAssistant,
  deleteAssistant,
  findAssistant,
  listAssistantCandidates,
  toAssistantView,
  updateAssistant,
} from '../data/assistants.js';
import type { Caller } from '../domain/admission.js';
import { assertBaseModel, mayEditAssistant, usableAssistants } from '../domain/assistants.js';
import { assertLength, assertRoom } from '../domain/library-limits.js';
import { principal } from './principal.js';

/** Shared assistants are managed by an admin: a session, or an admin's key with the `admin` scope. */
const isAdmin = (caller: Caller) =>
  caller.role === 'admin' && (caller.kind !== 'api_key' || caller.scopes.includes('admin'));

/**
 * Assistants (`/api/assistants`): the caller's own and the shared ones open to them, picked like a
 * model; starting a chat with one is `POST /api/conversations/start` with `assistantId`. Managing
 * them is part of the owner's account: a session, or a key with the `account` scope.
 */
export function assistantRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.use(requireScope('account'));
  const { MAX_PROMPT_CHARS, MAX_ASSISTANTS_PER_USER } = ctx.config;

  router.get('/', async (req, res) => {
    const caller = principal(req);
    const usable = await usableAssistants(ctx, caller, await listAssistantCandidates(ctx.db, caller.userId));
    res.json({
      items: usable.map((a) =>
        toAssistantView(a, mayEditAssistant(a, caller) && (!a.shared || isAdmin(caller))),
      ),
    });
  });

  router.post('/', async (req, res) => {
    const caller = principal(req);
    const { shared, ...fields } = parseInput(assistantBody, req.body ?? {});
    if ((shared || fields.groupIds.length > 0) && !isAdmin(caller)) {
      throw new AppError('forbidden', 'Only an admin shares an assistant with everyone or with groups.');
    }
    if (!shared && fields.groupIds.length > 0) {
      throw new AppError('validation_failed', 'body.groupIds: only a shared assistant is limited to groups', {
        extensions: {
          errors: [{ path: 'body.groupIds', message: 'only a shared assistant is limited to groups' }],
        },
      });
    }
    assertLength('body.systemPrompt', fields.systemPrompt.length, MAX_PROMPT_CHARS, 'MAX_PROMPT_CHARS');
    await assertBaseModel(ctx, caller, fields.baseModel, shared);
    const count = await countAssistants(ctx.db, caller.userId, shared);
    assertRoom(
      shared ? 'shared assistants' : 'assistants',
      count,
      1,
      MAX_ASSISTANTS_PER_USER,
      'MAX_ASSISTANTS_PER_USER',
    );
    const assistant = await createAssistant(ctx.db, { userId: caller.userId, shared, ...fields });
    res
      .status(201)
      .location(`/api/assistants/${assistant.id}`)
      .json({ assistant: toAssistantView(assistant, true) });
  });

  /** The assistant, when the caller may change it; 404 when they may not even see it. */
  async function editable(caller: Caller, id: string) {
    const assistant = await findAssistant(ctx.db, id);
    const visible = assistant && (assistant.shared || assistant.userId === caller.userId);
    if (!assistant || !visible) throw assistantNotFound();
    if (!mayEditAssistant(assistant, caller) || (assistant.shared && !isAdmin(caller))) {
      throw new AppError('forbidden', 'Only an admin changes a shared assistant.');
    }
    return assistant;
  }

  router.patch('/:id', async (req, res) => {
    const caller = principal(req);
    const assistant = await editable(caller, req.params.id);
    const body = parseInput(assistantPatch, req.body ?? {});
    if (body.groupIds !== undefined && body.groupIds.length > 0 && !assistant.shared) {
      throw new AppError('validation_failed', 'body.groupIds: only a shared assistant is limited to groups', {
        extensions: {
          errors: [{ path: 'body.groupIds', message: 'only a shared assistant is limited to groups' }],
        },
      });
    }
    if (body.systemPrompt !== undefined) {
      assertLength('body.systemPrompt', body.systemPrompt.length, MAX_PROMPT_CHARS, 'MAX_PROMPT_CHARS');
    }
    if (body.baseModel !== undefined) await assertBaseModel(ctx, caller, body.baseModel, assistant.shared);
    const updated = await updateAssistant(ctx.db, assistant.id, body);
    res.json({ assistant: toAssistantView(updated, true) });
  });

  router.delete('/:id', async (req, res) => {
    const assistant = await editable(principal(req), req.params.id);
    // Conversations started with it keep its prompt and parameters (their link is cleared).
    await deleteAssistant(ctx.db, assistant.id);
    res.status(204).end();
  });

  return router;
}
