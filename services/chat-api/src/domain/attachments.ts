import { randomUUID } from 'node:crypto';
import {
  type Attachment,
  type AttachmentType,
  type ExportedConversation,
  MAX_ATTACHMENTS_PER_MESSAGE,
} from '@corral/contracts';
import { AppError, byteSize } from '@corral/service-kit';
import type { ChatContext } from '../context.js';
import {
  messageFiles,
  storageUsed,
  storeAttachments,
  type NewAttachment,
  unsentAttachments,
} from '../data/attachments.js';
import type { Caller } from './admission.js';
import { sniffImage } from './images.js';
import { modelCapabilities } from './models.js';

const MIB = 1024 * 1024;

/** The attachment's real type from its first bytes (PNG, JPEG, GIF, WebP), never the name or header. */
export function sniffAttachment(bytes: Buffer): AttachmentType | undefined {
  const image = sniffImage(bytes);
  if (image) return image as AttachmentType;
  const head = bytes.toString('latin1', 0, 6);
  return head === 'GIF87a' || head === 'GIF89a' ? 'image/gif' : undefined;
}

/** A file name safe for `Content-Disposition` and the UI: printable, no quotes or slashes, bounded. */
export function cleanFileName(name: string | undefined, type: AttachmentType): string {
  const cleaned = (name ?? '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\/;]/g, '_')
    .trim()
    .slice(0, 120);
  return cleaned || `image.${type.slice('image/'.length)}`;
}

/** The caller's storage quota in bytes, null for none (`0` MiB). */
export const quotaBytesOf = (caller: Caller): number | null =>
  caller.limits.storageQuotaMb > 0 ? caller.limits.storageQuotaMb * MIB : null;

export function quotaError(refusal: { usedBytes: number; quotaBytes: number; size: number }): AppError {
  const mib = (bytes: number) => (bytes / MIB).toFixed(1);
  return new AppError(
    'storage_quota_exceeded',
    `Your attachments use ${mib(refusal.usedBytes)} MiB of your ${mib(refusal.quotaBytes)} MiB; ` +
      `this ${mib(refusal.size)} MiB does not fit. Delete conversations with images to free space.`,
    { extensions: refusal },
  );
}

/** 413 naming ATTACHMENT_MAX_BYTES (and the file's size when known). */
export function fileTooLarge(ctx: ChatContext, size: number | undefined, param = 'body'): AppError {
  const max = byteSize(ctx.config.ATTACHMENT_MAX_BYTES);
  const what = size === undefined ? 'the file is larger than that' : `the file is ${size} bytes`;
  return new AppError(
    'payload_too_large',
    `${param}: ${what}; images of at most ${max} bytes can be attached (ATTACHMENT_MAX_BYTES).`,
    { extensions: { param, maxBytes: max, ...(size === undefined ? {} : { size }) } },
  );
}

/** Checks the bytes (size, a sniffed image type) of one file for `param`; its type. */
export function checkAttachmentBytes(ctx: ChatContext, bytes: Buffer, param: string): AttachmentType {
  if (bytes.length > byteSize(ctx.config.ATTACHMENT_MAX_BYTES)) throw fileTooLarge(ctx, bytes.length, param);
  if (bytes.length === 0) throw new AppError('bad_request', `${param}: the file is empty.`);
  const type = sniffAttachment(bytes);
  if (!type) {
    throw new AppError('bad_request', `${param}: only images can be attached (PNG, JPEG, GIF or WebP).`, {
      extensions: { param },
    });
  }
  return type;
}

/** Stores an uploaded image in the conversation (not yet sent): checked, within the quota, or nothing. */
export async function uploadAttachment(
  ctx: ChatContext,
  caller: Caller,
  conversationId: string,
  bytes: Buffer,
  name: string | undefined,
): Promise<Attachment> {
  const contentType = checkAttachmentBytes(ctx, bytes, 'body');
  const item: NewAttachment = {
    id: randomUUID(),
    userId: caller.userId,
    conversationId,
    messageId: null,
    name: cleanFileName(name, contentType),
    contentType,
    data: bytes,
  };
  const result = await storeAttachments(ctx.db, caller.userId, [item], quotaBytesOf(caller));
  if ('refused' in result) throw quotaError(result.refused);
  return result.stored[0]!;
}

/**
 * The uploads a new message carries: each must be an unsent upload of this conversation, and the
 * model must see images (`vision`), else 400 naming what is wrong.
 */
export async function attachmentsForMessage(
  ctx: ChatContext,
  caller: Caller,
  conversationId: string,
  model: string,
  ids: string[],
): Promise<Attachment[]> {
  if (ids.length === 0) return [];
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) {
    throw new AppError(
      'bad_request',
      `attachmentIds: at most ${MAX_ATTACHMENTS_PER_MESSAGE} images per message.`,
    );
  }
  const unique = [...new Set(ids)];
  const found = await unsentAttachments(ctx.db, caller.userId, conversationId, unique);
  if (found.length !== unique.length) {
    throw new AppError(
      'bad_request',
      'attachmentIds: an attachment is not an unsent upload of this conversation.',
      { extensions: { param: 'attachmentIds' } },
    );
  }
  const capabilities = await modelCapabilities(ctx, model);
  if (!capabilities.includes('vision')) {
    throw new AppError(
      'bad_request',
      `attachmentIds: the model '${model}' does not accept images (no vision).`,
      {
        extensions: { param: 'attachmentIds' },
      },
    );
  }
  const order = new Map(unique.map((id, index) => [id, index]));
  return found.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/**
 * The images of an import, checked before anything is written: each a real image within
 * ATTACHMENT_MAX_BYTES (its type set from its bytes), and all of them within the caller's quota.
 */
export async function assertImportedAttachments(
  ctx: ChatContext,
  caller: Caller,
  conversations: ExportedConversation[],
): Promise<void> {
  let size = 0;
  conversations.forEach((c, i) =>
    c.messages.forEach((m, j) =>
      (m.attachments ?? []).forEach((file, k) => {
        const bytes = Buffer.from(file.data, 'base64');
        const param = `body.conversations.${i}.messages.${j}.attachments.${k}`;
        file.contentType = checkAttachmentBytes(ctx, bytes, param);
        file.name = cleanFileName(file.name, file.contentType as AttachmentType);
        size += bytes.length;
      }),
    ),
  );
  const quotaBytes = quotaBytesOf(caller);
  if (size === 0 || quotaBytes === null) return;
  const usedBytes = await storageUsed(ctx.db, caller.userId);
  if (usedBytes + size > quotaBytes) throw quotaError({ usedBytes, quotaBytes, size });
}

/**
 * An edited message keeps the original's images: they are copied (within the quota) as uploads of
 * the conversation for the new message, so its answer sees what the original's did.
 */
export async function attachmentsForEdit(
  ctx: ChatContext,
  caller: Caller,
  conversationId: string,
  model: string,
  originalId: string,
): Promise<Attachment[]> {
  const files = await messageFiles(ctx.db, originalId);
  if (files.length === 0) return [];
  const capabilities = await modelCapabilities(ctx, model);
  if (!capabilities.includes('vision')) {
    throw new AppError(
      'bad_request',
      `The message has images, and the model '${model}' does not accept images (no vision).`,
    );
  }
  const items: NewAttachment[] = files.map((file) => ({
    ...file,
    id: randomUUID(),
    userId: caller.userId,
    conversationId,
    messageId: null,
  }));
  const result = await storeAttachments(ctx.db, caller.userId, items, quotaBytesOf(caller));
  if ('refused' in result) throw quotaError(result.refused);
  return result.stored;
}
