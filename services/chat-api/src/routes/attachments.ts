import { requireScope } from '@corral/auth-client';
import { AppError, byteSize, parseInput } from '@corral/service-kit';
import express, { Router } from 'express';
import { z } from 'zod';
import type { ChatContext } from '../context.js';
import { findAttachment } from '../data/attachments.js';
import { findOwnConversation, UUID } from '../data/conversations.js';
import { fileTooLarge, uploadAttachment } from '../domain/attachments.js';
import { principal } from './principal.js';

/** The upload's path under the app (its body is raw image bytes, not JSON). */
export const ATTACHMENT_UPLOAD_PATH = /^\/api\/conversations\/[^/]+\/attachments\/?$/i;

const uploadQuery = z.object({ name: z.string().max(255).optional() });

const notFound = () => new AppError('not_found', 'No such attachment.');

/**
 * Images attached to messages: `POST /:id/attachments` stores one (the raw bytes as the body,
 * `?name=` its file name) for a message about to be sent; `GET /:id/attachments/:attachmentId`
 * gives it back to its owner only, typed from its sniffed bytes and never runnable as a page.
 */
export function attachmentRoutes(ctx: ChatContext): Router {
  const router = Router();
  // Attaching an image to a message about to be sent is part of generating (every key has it);
  // reading stored images back is the owner's history (a session, or a key with `account`).
  router.post('/:id/attachments', requireScope('inference'));
  router.get('/:id/attachments/:attachmentId', requireScope('account'));
  // One byte over the limit is read, so the domain check answers with the numbers (not the parser).
  const rawBody = express.raw({ type: () => true, limit: byteSize(ctx.config.ATTACHMENT_MAX_BYTES) + 1 });

  router.post('/:id/attachments', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    const { name } = parseInput(uploadQuery, req.query, 'query');
    const body: unknown = await new Promise((resolve, reject) =>
      rawBody(req, res, (error?: unknown) => {
        if (!error) return resolve(req.body);
        // The parser stops reading past the limit: answer with the limit's name and numbers.
        const tooLarge = (error as { type?: unknown }).type === 'entity.too.large';
        reject(tooLarge ? fileTooLarge(ctx, Number(req.headers['content-length']) || undefined) : error);
      }),
    );
    const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    const attachment = await uploadAttachment(ctx, caller, conversation.id, bytes, name);
    res
      .status(201)
      .location(`/api/conversations/${conversation.id}/attachments/${attachment.id}`)
      .json({ attachment });
  });

  router.get('/:id/attachments/:attachmentId', async (req, res) => {
    const caller = principal(req);
    const conversation = await findOwnConversation(ctx.db, caller.userId, req.params.id);
    if (!UUID.test(req.params.attachmentId)) throw notFound();
    const found = await findAttachment(ctx.db, caller.userId, conversation.id, req.params.attachmentId);
    if (!found) throw notFound();
    res.set({
      'Content-Type': found.contentType,
      'Content-Length': String(found.data.length),
      'Content-Disposition': `inline; filename="${found.name}"`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(found.data);
  });

  return router;
}
