import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { assistantRoutes } from './assistants.js';
import { promptRoutes } from './prompts.js';
import { shareRoutes } from './shares.js';

/** The prompt library, assistants and shared conversations, mounted under /api behind the guard. */
export function libraryRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.use('/prompts', promptRoutes(ctx));
  router.use('/assistants', assistantRoutes(ctx));
  router.use('/shares', shareRoutes(ctx));
  return router;
}
