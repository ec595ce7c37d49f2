import { once } from 'node:events';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportedConversation,
  type ExportedFolder,
  exportFile,
} from '@corral/contracts';
import { requireScope } from '@corral/auth-client';
import { parseInput } from '@corral/service-kit';
import { assertImportedAttachments } from '../domain/attachments.js';
import { assertMessageSizes } from '../domain/message-size.js';
import express, { type Response, Router } from 'express';
import type { ChatContext } from '../context.js';
import { findOwnConversation } from '../data/conversations.js';
import { exportConversations, importConversations } from '../data/transfer.js';
import { importFolders, listFolders } from '../data/folders.js';
import { assertImportedComments, exportedFolders } from './transfer-extras.js';
import { exportLibrary, importLibrary } from '../data/library-transfer.js';
import { assertImportedLibrary } from '../domain/library-import.js';
import { principal } from './principal.js';

export const JSON_TYPES = ['application/json', 'application/*+json'];
/** The import route parses its own (larger) body; app.ts skips the default parser for it. */
export const IMPORT_PATH = /^\/api\/conversations\/import\/?$/i;

/**
 * Writes the export file as it is read: the envelope, then one conversation at a time with
 * backpressure, so memory stays flat however many conversations there are. A client that goes
 * away stops the export; a failure half-way cuts the connection (the file is visibly incomplete).
 */
async function streamExport(
  res: Response,
  filename: string,
  conversations: AsyncGenerator<ExportedConversation>,
  folders: ExportedFolder[],
  library: object = {},
): Promise<void> {
  res.status(200).set({
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="${filename}"`,
    'Cache-Control': 'no-store',
  });
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  const head = JSON.stringify({
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: new Date(),
    folders,
    ...library,
  });
  await write(`${head.slice(0, -1)},"conversations":[`);
  let first = true;
  try {
    for await (const conversation of conversations) {
      if (res.destroyed) return;
      await write(`${first ? '\n' : ',\n'}${JSON.stringify(conversation)}`);
      first = false;
    }
  } catch (error) {
    res.destroy();
    throw error;
  }
  res.end('\n]}\n');
}

const today = () => new Date().toISOString().slice(0, 10);

/**
 * Export (one conversation or all of the caller's) and import, in the same JSON format: the
 * owner's whole history, so a session or an API key with the `account` scope.
 */
export function transferRoutes(ctx: ChatContext): Router {
  const router = Router();
  const account = requireScope('account');
  router.get(['/export', '/:id/export'], account);
  router.post('/import', account);

  router.get('/export', async (req, res) => {
    const { userId } = principal(req);
    const folders = exportedFolders(await listFolders(ctx.db, userId));
    const library = await exportLibrary(ctx.db, userId);
    await streamExport(
      res,
      `corral-conversations-${today()}.json`,
      exportConversations(ctx.db, userId),
      folders,
      library,
    );
  });

  router.get('/:id/export', async (req, res) => {
    const { userId } = principal(req);
    const conversation = await findOwnConversation(ctx.db, userId, req.params.id);
    await streamExport(
      res,
      `corral-conversation-${conversation.id}.json`,
      exportConversations(ctx.db, userId, conversation.id),
      exportedFolders(await listFolders(ctx.db, userId), conversation.folderId),
    );
  });

  router.post(
    '/import',
    express.json({ limit: ctx.config.IMPORT_BODY_LIMIT, type: JSON_TYPES }),
    async (req, res) => {
      const { userId } = principal(req);
      const file = parseInput(exportFile, req.body ?? {});
      assertMessageSizes(
        file.conversations.flatMap((c, i) =>
          c.messages.map((m, j) => ({
            path: `body.conversations.${i}.messages.${j}.content`,
            role: m.role,
            length: m.content.length,
          })),
        ),
        ctx.config.MAX_MESSAGE_CHARS,
      );
      const caller = principal(req);
      await assertImportedAttachments(ctx, caller, file.conversations);
      assertImportedComments(file.conversations, ctx.config.FEEDBACK_COMMENT_MAX_CHARS);
      await assertImportedLibrary(ctx, userId, file);
      const folders = await importFolders(
        ctx.db,
        userId,
        file.folders ?? [],
        ctx.config.MAX_FOLDERS_PER_USER,
      );
      const result = await importConversations(ctx.db, userId, file.conversations, folders.ids);
      result.folders = folders.created;
      const library = await importLibrary(ctx.db, userId, file.prompts ?? [], file.assistants ?? []);
      ctx.logger.info('conversations imported', {
        imported: result.imported,
        skipped: result.skipped,
        renamed: result.renamed.length,
      });
      res.json({ ...result, ...library });
    },
  );

  return router;
}
