import { conversationFolderInput, folderInput } from '@corral/contracts';
import { requireScope } from '@corral/auth-client';
import { parseInput } from '@corral/service-kit';
import { Router } from 'express';
import type { ChatContext } from '../context.js';
import { toConversationView } from '../data/conversations.js';
import {
  createFolder,
  deleteFolder,
  findOwnFolder,
  listFolders,
  moveToFolder,
  renameFolder,
  toFolderView,
} from '../data/folders.js';
import { principal } from './principal.js';

/**
 * `/api/folders`: the caller's folders (list, create, rename, delete). Part of the owner's
 * account: a session, or a key with the `account` scope.
 */
export function folderRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.use(requireScope('account'));
  const limit = ctx.config.MAX_FOLDERS_PER_USER;

  router.get('/', async (req, res) => {
    const folders = await listFolders(ctx.db, principal(req).userId);
    res.json({ items: folders.map(toFolderView), limit });
  });

  router.post('/', async (req, res) => {
    const { name } = parseInput(folderInput, req.body ?? {});
    const folder = await createFolder(ctx.db, principal(req).userId, name, limit);
    res
      .status(201)
      .location(`/api/folders/${folder.id}`)
      .json({ folder: toFolderView(folder) });
  });

  router.patch('/:id', async (req, res) => {
    const folder = await findOwnFolder(ctx.db, principal(req).userId, req.params.id);
    const { name } = parseInput(folderInput, req.body ?? {});
    res.json({ folder: toFolderView(await renameFolder(ctx.db, folder, name)) });
  });

  router.delete('/:id', async (req, res) => {
    const folder = await findOwnFolder(ctx.db, principal(req).userId, req.params.id);
    await deleteFolder(ctx.db, folder);
    res.status(204).end();
  });

  return router;
}

/** `PUT /api/conversations/:id/folder`: files a conversation in one of the caller's folders, or none. */
export function conversationFolderRoutes(ctx: ChatContext): Router {
  const router = Router();
  router.put('/:id/folder', requireScope('account'));
  router.put('/:id/folder', async (req, res) => {
    const { folderId } = parseInput(conversationFolderInput, req.body ?? {});
    const moved = await moveToFolder(ctx.db, principal(req).userId, req.params.id, folderId);
    res.json({ conversation: toConversationView(moved) });
  });
  return router;
}
